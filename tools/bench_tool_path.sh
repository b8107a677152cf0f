#!/usr/bin/env bash
# Tool-path benchmark on loopback with real processes: a nats-server, a gateway and daemons
# (`reliant`), SQLite for the gateway's store (only registrations touch it).
#   1. round trip of a no-op tool (`echo`, 200 bytes) bus → gateway → daemon → back, one call at
#      a time, p50/p99, against the floor measured in the same run: a bare nats.c request-reply
#      through the same nats-server plus a bare gRPC bidi ping-pong (bench_grpc_transport).
#      In ROUNDS rounds (default 4) of CALLS/ROUNDS calls, each measuring its floors right
#      before its tool calls: this machine's latencies drift by 2x within minutes, and a floor
#      measured minutes apart from the path would compare two different machines. Every
#      round's ratio is printed, then their median;
#   2. sustained round trips per second with 20 daemons and 32 callers;
#   3. idle daemon streams one gateway holds per GiB of RSS.
# It also prints what a hand-over between threads costs on this machine (bench_handoff): posted,
# the tool path would pay two per call that its floors do not; Executor::hand_over lets the
# gRPC thread run an idle executor's work itself instead.
#   [ROUNDS=N] tools/bench_tool_path.sh [CALLS] [IDLE_STREAMS]     (defaults 3000, 4000)
#   tools/bench_tool_path.sh --smoke     2 rounds of 20 calls, 3 daemons sustained, 50 idle
#                                        streams, checked (tools/bench_lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
if [ "${1:-}" = --smoke ]; then shift; smoke_mode "$@"; fi
calls=${1:-3000}
idle=${2:-4000}
rounds=${ROUNDS:-4}
daemons=20          # sustained
handoff_time=0.5    # seconds a case of bench_handoff
reliant=$build/src/app/reliant
bench=$build/tests/bench/bench_tool_path
if [ -n "$smoke" ]; then
  calls=40
  idle=50
  rounds=2
  daemons=3
  handoff_time=0.01
else
  cmake --build "$build" --target reliant bench_tool_path bench_grpc_transport bench_handoff -j"$(nproc)" >/dev/null
fi
smoke_need "$reliant" "$bench" "$build/tests/bench/bench_grpc_transport" "$build/tests/bench/bench_handoff"
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"
source tools/ports.sh
port=$(free_port_block 30)
db="--db-driver sqlite --db-url $work/reliant.db"
nats_url="nats://127.0.0.1:$port"
nats-server -a 127.0.0.1 -p "$port" >"$work/nats.log" 2>&1 &
pids+=($!)
$reliant db migrate up $db >/dev/null
$reliant admin user create --email bench@example.com $db >/dev/null
token=$($reliant admin token create --user bench@example.com $db | tail -n 1)
sleep 0.3
start_gateway() {  # ID PORT
  $reliant server gateway $db --nats-url "$nats_url" --gateway-id "$1" --bind-address 127.0.0.1 \
    --daemon-port "$2" --frontend-port $(($2 + 1)) --health-port $(($2 + 2)) --disable-tls \
    >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do
    [ "$(curl -s "http://127.0.0.1:$(($2 + 2))/ready" || true)" = '{"status":"ready"}' ] && return
    sleep 0.1
  done
  echo "gateway $1 not ready"; cat "$work/$1.log"; exit 1
}
start_daemon() {  # NAME
  mkdir -p "$work/$1"
  echo "$token" | HOME="$work/$1" $reliant daemon start --token --name "$1" \
    --grpc-url "http://127.0.0.1:$((port + 10))" --working-dir "$work/$1" >"$work/$1.log" 2>&1 &
  pids+=($!)
}
active() { sqlite3 "$work/reliant.db" "SELECT COUNT(*) FROM daemons WHERE status = 'active'" 2>/dev/null || echo 0; }
wait_active() {
  for _ in $(seq 1 200); do [ "$(active)" -ge "$1" ] && return; sleep 0.1; done
  echo "only $(active) of $1 daemons active"; exit 1
}

start_gateway gw $((port + 10))
start_daemon d1
wait_active 1

echo "== hand-over round trip between two executors (bench_handoff: two hand-overs)"
handoff=$("$build/tests/bench/bench_handoff" --benchmark_min_time="$handoff_time" 2>/dev/null | grep BM_)
echo "$handoff"
for case in 0 1 2; do
  smoke_expect "$handoff" "^BM_ExecutorHandOverRoundTrip/$case/real_time +[0-9.]+ [mun]?s " bench_handoff
done
echo
per_round=$((calls / rounds))
ratios=()
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds: gRPC floor (bench_grpc_transport), then $per_round tool calls"
  grpc=$("$build/tests/bench/bench_grpc_transport" "$per_round" | tee /dev/stderr |
    grep "bare gRPC callback bidi")
  grpc_p50=$(awk '{print $(NF-4)}' <<<"$grpc")
  grpc_p99=$(awk '{print $(NF-1)}' <<<"$grpc")
  smoke_positive "$grpc_p50" "bench_grpc_transport's floor p50"
  smoke_positive "$grpc_p99" "bench_grpc_transport's floor p99"
  result=$($bench round-trip --nats-url "$nats_url" $db --user bench@example.com \
    --calls "$per_round" --grpc-floor-p50 "$grpc_p50" --grpc-floor-p99 "$grpc_p99")
  echo "$result"
  smoke_expect "$result" "^tool round trip: .*\($per_round calls, 0 errors\)" "bench_tool_path round-trip"
  smoke_expect "$result" "^ratio to the floor .* p50 +[0-9.]+x +p99 +[0-9.]+x" "bench_tool_path round-trip"
  ratios+=("$(awk '/^ratio to the floor/ {print $9, $11}' <<<"$result" | tr -d x)")
  echo
done
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
p50s=$(printf '%s\n' "${ratios[@]}" | awk '{ print $1 }')
p99s=$(printf '%s\n' "${ratios[@]}" | awk '{ print $2 }')
echo "ratio to the floor, median of $rounds rounds      p50 $(median <<<"$p50s")x   p99 $(median <<<"$p99s")x" \
  "  (targets: ≤ 1.5x, ≤ 3x; p50 by round: $(tr '\n' ' ' <<<"$p50s"))"

echo
echo "== sustained, $daemons daemons"
for i in $(seq 2 "$daemons"); do start_daemon "d$i"; done
wait_active "$daemons"
sustained=$($bench round-trip --nats-url "$nats_url" $db --user bench@example.com --calls $((calls * 3)) \
  --concurrency 32)
echo "$sustained"
smoke_expect "$sustained" "^sustained, 32 callers +[0-9.]+ calls/s .*\($daemons daemons, 0 errors\)" \
  "bench_tool_path round-trip --concurrency 32"

echo
echo "== idle daemon streams on one gateway ($idle)"
start_gateway idle-gw $((port + 20))
gw_pid=${pids[-1]}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
before=$(rss_kb "$gw_pid")
$bench hold-streams --gateway "127.0.0.1:$((port + 20))" --token "$token" --streams "$idle" \
  >"$work/hold.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do grep -q "^holding" "$work/hold.log" && break; sleep 0.2; done
grep -q "^holding" "$work/hold.log" || { echo "streams not held"; cat "$work/hold.log"; exit 1; }
sleep 2
after=$(rss_kb "$gw_pid")
held=$(awk '/^holding/ {print $2}' "$work/hold.log")
[ "$held" = "$idle" ] || [ -z "$smoke" ] || smoke_fail "bench_tool_path hold-streams held $held of $idle streams"
# A few streams may not grow the gateway's resident size measurably (a smoke run holds 50).
awk -v b="$before" -v a="$after" -v n="$held" 'BEGIN {
  per = (a - b) * 1024 / n
  if (per <= 0) { printf "gateway RSS %d MiB → %d MiB for %d idle streams: no growth measured\n", b / 1024, a / 1024, n; exit }
  printf "gateway RSS %d MiB → %d MiB for %d idle streams: %.1f KiB per stream, %.0f streams per GiB (target ≥ 25000)\n",
         b / 1024, a / 1024, n, per / 1024, 1073741824 / per }'
smoke_passed
