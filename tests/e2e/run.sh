#!/usr/bin/env bash
# The web app's end-to-end tests: starts `reliant monolith` (plain HTTP on free loopback ports,
# the scripted model, offline, the built web/dist) in a scratch data dir, and a second one with
# a model catalogue of two scripted models for the model pickers, runs web.test.mjs (one
# node:test process, as the monolith's sign-in link works once) in headless Debian chromium
# through playwright-core, and stops them. Screenshots go to SCREENSHOT_DIR (CTest: build/e2e-screenshots).
#   run.sh RELIANT_BINARY SCREENSHOT_DIR [NODE_TEST_OPTION...]   e.g. --test-name-pattern=terminal
set -euo pipefail
source "$(dirname "$0")/lib.sh"
e2e_setup "$1" "$2"
shift 2
find "$shots" -maxdepth 1 -name '*.png' ! -name '*distributed-*' -delete  # run_distributed.sh's stay

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  # The managed daemons the daemons page created run in sessions of their own.
  for f in "$work"/data/managed/*/daemon.pid; do [ -f "$f" ] && kill -9 -- "-$(cat "$f")" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# start_monolith NAME WORKSPACE PORT [FLAG...]: `reliant monolith` with its data in $work/NAME,
# its log in $work/NAME.log and a home of its own (the user's ~/.reliant — mcp.json, approvals —
# is not this test's), plain HTTP on PORT and gRPC on PORT+1, serving the built app; returns
# once it answers and has written its sign-in link.
start_monolith() {
  local name=$1 workspace=$2 port=$3
  shift 3
  mkdir -p "$work/home-$name"
  HOME="$work/home-$name" "$reliant" monolith --data-dir "$work/$name" --api-port "$port" \
    --grpc-port $((port + 1)) --disable-tls --working-dir "$workspace" --web-dir "$web" "$@" \
    >"$work/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do
    [ -s "$work/$name/auth/web-link" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "e2e: the $name monolith exited"; cat "$work/$name.log"; exit 1; }
    sleep 0.1
  done
  echo "e2e: the $name monolith did not come up"
  cat "$work/$name.log"
  exit 1
}

# A workspace for the embedded daemon: a file for the files tab, a folder to open, and an
# mcp.json whose server waits for approval on the MCP page.
mkdir -p "$work/ws/docs" "$work/ws/.reliant"
printf 'Notes for the e2e test.\nsecond line\n' >"$work/ws/notes.txt"
printf '# Guide\n' >"$work/ws/docs/guide.md"
printf '{"mcpServers": {"probe": {"command": "python3", "args": ["%s"]}}}\n' \
  "$root/tests/integration/mcp_probe_server.py" >"$work/ws/.reliant/mcp.json"
port=$(free_port_block 4)
start_monolith data "$work/ws" "$port"
# A second monolith with a model catalogue of two models on the scripted provider, for the
# model pickers (presets.mjs); the first has none, so its pickers offer the server's default.
mkdir -p "$work/models-ws"
cat >"$work/models.yaml" <<'EOF2'
providers:
  local: {kind: scripted}
models:
  - {name: a, provider: local, tags: [flagship]}
  - {name: b, provider: local, tags: [cheap]}
EOF2
start_monolith models "$work/models-ws" $((port + 2)) --models "$work/models.yaml"

status=0
E2E_BASE_URL="http://127.0.0.1:$port" E2E_DATA_DIR="$work/data" E2E_WORKSPACE="$work/ws" \
  E2E_LOG="$work/data.log" E2E_MODELS_URL="http://127.0.0.1:$((port + 2))" \
  E2E_MODELS_DATA_DIR="$work/models" e2e_node web.test.mjs "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- the monolith's log (last 40 lines)"
  tail -n 40 "$work/data.log"
  echo "--- the catalogue monolith's log (last 20 lines)"
  tail -n 20 "$work/models.log"
fi
echo "e2e: screenshots in $shots"
exit "$status"
