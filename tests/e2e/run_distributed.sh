#!/usr/bin/env bash
# The web app's end-to-end test on the distributed topology: starts tools/cluster.sh (Postgres,
# nats-server, 2 gateways, 2 workers, 2 api servers serving the built web/dist, one daemon), gives
# its user a password, runs distributed.test.mjs in headless Debian chromium against api
# replica 1, and always stops the cluster. Screenshots go to SCREENSHOT_DIR as distributed-*.png.
#   run_distributed.sh RELIANT_BINARY SCREENSHOT_DIR [NODE_TEST_OPTION...]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup "$1" "$2"
shift 2
rm -f "$shots"/*distributed-*.png

# Not a private mktemp directory as it is: the postgres user must reach the cluster's Postgres.
cluster=$(mktemp -d "${TMPDIR:-/tmp}/reliant-e2e-cluster.XXXXXX")
chmod 711 "$cluster"
cleanup() {
  "$root/tools/cluster.sh" stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$cluster"  # when start failed before marking it
}
trap cleanup EXIT
RELIANT="$reliant" RELIANT_WEB_DIR="$web" "$root/tools/cluster.sh" start "$cluster" >/dev/null \
  || { echo "e2e: the cluster did not start"; tail -n 20 "$cluster"/*.log; exit 1; }
source "$cluster/cluster.env"
email=dev@example.com  # cluster.sh's user
password="e2e-$RANDOM-$RANDOM-password"
echo "$password" | "$reliant" admin user set-password --user "$email" --db-url "$DATABASE_URL" >/dev/null
printf 'Notes for the e2e test.\n' >"$cluster/workspace/notes.txt"  # for the daemon's ls

status=0
E2E_BASE_URL="$API_1" E2E_TOKEN="$TOKEN" E2E_DATABASE_URL="$DATABASE_URL" E2E_EMAIL="$email" \
  E2E_PASSWORD="$password" E2E_WORKSPACE="$cluster/workspace" e2e_node distributed.test.mjs "$@" || status=$?
if [ "$status" -ne 0 ]; then
  for log in "$cluster"/{api-1,worker-1,worker-2,gateway-1,gateway-2,daemon}.log; do
    echo "--- $(basename "$log") (last 15 lines)"
    tail -n 15 "$log"
  done
fi
echo "e2e: screenshots in $shots"
exit "$status"
