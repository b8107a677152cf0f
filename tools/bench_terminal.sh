#!/usr/bin/env bash
# Terminal keystroke echo latency, p50 and p99, in ROUNDS alternating rounds (this machine drifts
# by 2x within minutes), each against its floor measured in the same round:
#   floor    a shell on a bare pseudo-terminal (tests/bench/pty_echo.py)
#   cluster  the ws npm client on api 1's /api/v2/terminal/ws → the bus → the gateway holding
#            the daemon → its terminal (tools/cluster.sh: Postgres, nats-server, 2 api, 2
#            workers, 2 gateways, 1 daemon), and back
#   monolith the same WebSocket on a monolith, whose daemon is in its own process
# Prints each round's figures and the ratios to the floor.
#   [ROUNDS=N] tools/bench_terminal.sh [KEYS]     (defaults: 3 rounds of 300 keys)
#   tools/bench_terminal.sh --smoke               one round of 20 keys, checked (tools/bench_lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
if [ "${1:-}" = --smoke ]; then shift; smoke_mode "$@"; fi
keys=${1:-300}
rounds=${ROUNDS:-3}
reliant=$build/src/app/reliant
cluster=$build/bench-cluster  # not under $work: the postgres user must be able to reach it
if [ -n "$smoke" ]; then
  keys=20
  rounds=1
  cluster=$build/bench-terminal-smoke  # its own: the other benchmarks' keep theirs
else
  cmake --build "$build" --target reliant -j"$(nproc)" >/dev/null
fi
smoke_need "$reliant"
work=$(mktemp -d)
mono_pid=""
cleanup() {
  [ -n "$mono_pid" ] && kill "$mono_pid" 2>/dev/null || true
  tools/cluster.sh stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
source tools/ports.sh

port=$(free_port_block 2)
"$reliant" monolith --data-dir "$work/data" --api-port "$port" --grpc-port $((port + 1)) \
  --disable-tls --working-dir "$work" >"$work/monolith.log" 2>&1 &
mono_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/data/auth/token" ] && curl -s "http://127.0.0.1:$port/api/v1/me" >/dev/null && break
  sleep 0.1
done
mono_url="http://127.0.0.1:$port"
mono_token=$(cat "$work/data/auth/token")
mono_daemon=$(curl -s -H "Authorization: Bearer $mono_token" "$mono_url/api/v1/daemons" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["daemons"][0]["id"])')
tools/cluster.sh stop "$cluster" >/dev/null 2>&1 || true
RELIANT=$reliant tools/cluster.sh start "$cluster" >/dev/null
# shellcheck disable=SC1091
source "$cluster/cluster.env"
cluster_daemon=$(curl -s -H "Authorization: Bearer $TOKEN" "$API_1/api/v1/daemons" |
  python3 -c 'import json,sys; print([d["id"] for d in json.load(sys.stdin)["daemons"] if d["status"]=="active"][0])')

field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
echo "== keystroke echo, $keys keys a run, $rounds rounds (microseconds)"
printf '%-6s %-9s %8s %8s   %s\n' round path p50 p99 "p50 ratio to the floor"
for round in $(seq 1 "$rounds"); do
  floor=$(python3 tests/bench/pty_echo.py "$keys")
  smoke_latencies "$floor" "$keys" "the floor (tests/bench/pty_echo.py)"
  floor_p50=$(field p50_us <<<"$floor")
  printf '%-6s %-9s %8s %8s\n' "$round" floor "$floor_p50" "$(field p99_us <<<"$floor")"
  for path in cluster monolith; do
    if [ "$path" = cluster ]; then
      out=$(node tests/interop/terminal_echo.mjs "$API_1" "$TOKEN" "$cluster_daemon" "$keys")
    else
      out=$(node tests/interop/terminal_echo.mjs "$mono_url" "$mono_token" "$mono_daemon" "$keys")
    fi
    smoke_latencies "$out" "$keys" "the $path's terminal (tests/interop/terminal_echo.mjs)"
    p50=$(field p50_us <<<"$out")
    printf '%-6s %-9s %8s %8s   %s\n' "$round" "$path" "$p50" "$(field p99_us <<<"$out")" \
      "$(python3 -c "print(f'{$p50 / max($floor_p50, 1):.0f}x')")"
  done
done
smoke_passed
