#!/usr/bin/env bash
# The web app's end-to-end tests: starts `reliant monolith` (plain HTTP on free loopback ports,
# the scripted model, offline, the built web/dist) in a scratch data dir, runs web.test.mjs (one
# node:test process, as the monolith's sign-in link works once) in headless Debian chromium
# through playwright-core, and stops it. Screenshots go to SCREENSHOT_DIR (CTest: build/e2e-screenshots).
#   run.sh RELIANT_BINARY SCREENSHOT_DIR [NODE_TEST_OPTION...]   e.g. --test-name-pattern=terminal
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup "$1" "$2"
shift 2
find "$shots" -maxdepth 1 -name '*.png' ! -name '*distributed-*' -delete  # run_distributed.sh's stay

work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  # The managed daemons the daemons page created run in sessions of their own.
  for f in "$work"/data/managed/*/daemon.pid; do [ -f "$f" ] && kill -9 -- "-$(cat "$f")" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
# A workspace for the embedded daemon: a file for the files tab, a folder to open, and an
# mcp.json whose server waits for approval on the MCP page. A home of its own: the user's
# ~/.reliant (mcp.json, approvals) is not this test's.
mkdir -p "$work/ws/docs" "$work/ws/.reliant" "$work/home"
printf 'Notes for the e2e test.\nsecond line\n' >"$work/ws/notes.txt"
printf '# Guide\n' >"$work/ws/docs/guide.md"
printf '{"mcpServers": {"probe": {"command": "python3", "args": ["%s"]}}}\n' \
  "$root/tests/integration/mcp_probe_server.py" >"$work/ws/.reliant/mcp.json"

port=$(free_port_block 2)
HOME="$work/home" "$reliant" monolith --data-dir "$work/data" --api-port "$port" --grpc-port $((port + 1)) --disable-tls \
  --working-dir "$work/ws" --web-dir "$web" >"$work/monolith.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/data/auth/web-link" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "e2e: the monolith exited"; cat "$work/monolith.log"; exit 1; }
  sleep 0.1
done
[ -s "$work/data/auth/web-link" ] || { echo "e2e: the monolith did not come up"; cat "$work/monolith.log"; exit 1; }

status=0
E2E_BASE_URL="http://127.0.0.1:$port" E2E_DATA_DIR="$work/data" E2E_WORKSPACE="$work/ws" \
  E2E_LOG="$work/monolith.log" e2e_node web.test.mjs "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- the monolith's log (last 40 lines)"
  tail -n 40 "$work/monolith.log"
fi
echo "e2e: screenshots in $shots"
exit "$status"
