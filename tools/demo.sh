#!/usr/bin/env bash
# The offline demo: `reliant monolith` (SQLite, engine, API, embedded tools daemon, scripted
# model) in a scratch data directory, and one `reliant chat` whose agent lists the files of this
# checkout and runs a shell command on the embedded daemon, streamed to the terminal.
#   tools/demo.sh ["MESSAGE"]     (build first: tools/setup.sh --build-only)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/ports.sh
reliant=build/src/app/reliant
[ -x "$reliant" ] || { echo "demo: $reliant is missing; run tools/setup.sh --build-only first" >&2; exit 1; }
message=${1:-'List the files here, then run `uname -sr && git log --oneline -1 2>/dev/null || true`'}
data=$(mktemp -d)
port=$(free_port_block 2)
"$reliant" monolith --data-dir "$data" --api-port "$port" --grpc-port $((port + 1)) --working-dir "$PWD" >"$data/monolith.log" 2>&1 &
monolith=$!
trap 'kill "$monolith" 2>/dev/null || true; wait "$monolith" 2>/dev/null || true; rm -rf "$data"' EXIT
for _ in $(seq 1 50); do
  # The monolith serves HTTPS with a certificate it generates into its data dir (spec S2.4).
  [ -s "$data/tls/cert.pem" ] && curl -sf --cacert "$data/tls/cert.pem" "https://127.0.0.1:$port/health" >/dev/null && break
  kill -0 "$monolith" 2>/dev/null || { cat "$data/monolith.log" >&2; exit 1; }
  sleep 0.1
done
echo "demo: reliant monolith on https://127.0.0.1:$port (data in $data, scripted model, offline)"
echo "demo: reliant chat \"$message\""
echo
"$reliant" chat --server "https://127.0.0.1:$port" --data-dir "$data" "$message"
