#!/usr/bin/env bash
# compose/ cannot be started here (no container runs), so this checks what can be checked: the
# compose file parses, every `reliant` subcommand and env var it relies on exists, and it fits
# the image deploy/image/build.sh makes from this binary (compose_image_check.py: the image's
# tag, subcommands and flags, published ports, healthchecks).
#   compose_check.sh RELIANT_BINARY COMPOSE_DIR
set -euo pipefail
reliant=$1
compose=$2/docker-compose.yml
python3 -c "import sys, yaml; yaml.safe_load(open(sys.argv[1]))" "$compose" || { echo "FAIL: $compose does not parse"; exit 1; }
for role in api worker gateway; do
  help=$("$reliant" server "$role" --help)
  for var in DATABASE_URL NATS_URL; do
    grep -q "$var" <<<"$help" || { echo "FAIL: server $role does not read $var"; exit 1; }
  done
done
grep -q GATEWAY_ID <<<"$("$reliant" server gateway --help)" || { echo "FAIL: gateway lacks GATEWAY_ID"; exit 1; }
grep -q LLM_PROVIDER <<<"$("$reliant" server worker --help)" || { echo "FAIL: worker lacks LLM_PROVIDER"; exit 1; }
grep -q HTTP_MAX_CONNECTIONS_PER_ADDRESS <<<"$("$reliant" server api --help)" || { echo "FAIL: api lacks HTTP_MAX_CONNECTIONS_PER_ADDRESS"; exit 1; }
"$reliant" db migrate --help >/dev/null
read -r -a tags <<<"$("$2/../deploy/image/build.sh" --tags "$reliant")"
python3 "$(dirname "$0")/compose_image_check.py" "$compose" "$reliant" "${tags[@]}"
echo "PASS: compose file parses; its commands and env vars exist; it fits the image"
