#!/usr/bin/env bash
# MCP tools/call overhead: server-everything's echo over stdio, called N times by the daemon's
# MCP client (bench_mcp: McpServers → McpClient → stdio on a PosixHost) and by the MCP
# TypeScript SDK's own client (the peer: the same server, no daemon), in ROUNDS alternating
# rounds; each round's p50 and p99, and the ratio of the p50s.
#   [ROUNDS=N] tools/bench_mcp.sh [CALLS]     (defaults: 3 rounds of 1000 calls)
#   tools/bench_mcp.sh --smoke                one round of 20 calls, checked (tools/bench_lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
if [ "${1:-}" = --smoke ]; then shift; smoke_mode "$@"; fi
calls=${1:-1000}
rounds=${ROUNDS:-3}
bench=$build/tests/bench/bench_mcp
if [ -n "$smoke" ]; then
  calls=20
  rounds=1
else
  cmake --build "$build" --target bench_mcp -j"$(nproc)" >/dev/null
fi
smoke_need "$bench"
everything=tests/interop/node_modules/@modelcontextprotocol/server-everything/dist/index.js
[ -f "$everything" ] || { echo "bench_mcp: run npm ci --prefix tests/interop"; exit 1; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
echo "== tools/call of server-everything's echo over stdio, $calls calls a run (microseconds)"
printf '%-6s %-8s %8s %8s   %s\n' round client p50 p99 "p50 ratio to the SDK's client"
args='{"message":"hello"}'
for round in $(seq 1 "$rounds"); do
  peer=$(node tests/interop/mcp_echo_peer.mjs "$calls" echo "$args" -- node "$everything" stdio)
  ours=$("$bench" "$calls" echo "$args" -- node "$everything" stdio)
  smoke_latencies "$peer" "$calls" "the SDK's client (tests/interop/mcp_echo_peer.mjs)"
  smoke_latencies "$ours" "$calls" bench_mcp
  peer_p50=$(field p50_us <<<"$peer")
  ours_p50=$(field p50_us <<<"$ours")
  printf '%-6s %-8s %8s %8s\n' "$round" sdk "$peer_p50" "$(field p99_us <<<"$peer")"
  printf '%-6s %-8s %8s %8s   %s\n' "$round" reliant "$ours_p50" "$(field p99_us <<<"$ours")" \
    "$(python3 -c "print(f'{$ours_p50 / max($peer_p50, 1):.2f}x')")"
done
smoke_passed
