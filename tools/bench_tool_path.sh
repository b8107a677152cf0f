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
#   2. sustained round trips per second with 20 daemons and 32 callers, and what each process
#      spent a call: CPU, and context switches (threads woken or put aside), against the floor
#      measured in the same run: the same relay of bare nats.c and gRPC (bench_relay_floor: a
#      caller, a gateway holding 20 daemon streams, 20 daemons answering with the input);
#   3. idle daemon streams one gateway holds per GiB of RSS.
# It also prints what a hand-over between threads costs on this machine (bench_handoff): posted,
# the tool path would pay two per call that its floors do not; Executor::hand_over lets the
# gRPC thread run an idle executor's work itself instead.
#   [ROUNDS=N] [OLD_BUILD=DIR] [SYSCALLS=1] tools/bench_tool_path.sh [CALLS] [IDLE_STREAMS] (defaults 3000, 3000;
#     a gateway's daemon port holds at most 3/16 of its descriptor limit in connections, 3750 at
#     this machine's 20000)
#     OLD_BUILD: an earlier `reliant` and `bench_tool_path` (a build tree, or a directory holding
#     the two binaries), measured alternately with this build in the same run: each round runs
#     the old path, then the new, each right after its own floors, on its own nats-server,
#     gateway and daemons (so neither set's gateway decodes the other's requests); sustained runs
#     alternate floor, old, new, floor, old, new. Prints every round's ratios for both, their medians, and
#     the old and new calls per second — a before/after whose floors were measured alongside.
#   tools/bench_tool_path.sh --smoke     2 rounds of 20 calls, 3 daemons sustained, 50 idle
#                                        streams, checked (tools/bench_lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
if [ "${1:-}" = --smoke ]; then shift; smoke_mode "$@"; fi
calls=${1:-3000}
idle=${2:-3000}
rounds=${ROUNDS:-4}
daemons=20          # sustained
handoff_time=0.5    # seconds a case of bench_handoff
if [ -n "$smoke" ]; then
  calls=40
  idle=50
  rounds=2
  daemons=3
  handoff_time=0.01
else
  cmake --build "$build" --target reliant bench_tool_path bench_grpc_transport bench_handoff \
    bench_relay_floor -j"$(nproc)" >/dev/null
fi
# The binary sets measured: "new" (this build) and, with OLD_BUILD, "old".
sets=(new)
declare -A reliant_of bench_of
reliant_of[new]=$build/src/app/reliant
bench_of[new]=$build/tests/bench/bench_tool_path
if [ -n "${OLD_BUILD:-}" ]; then
  old=$(realpath -m "$OLD_BUILD")
  if [ -x "$old/src/app/reliant" ]; then
    reliant_of[old]=$old/src/app/reliant
    bench_of[old]=$old/tests/bench/bench_tool_path
  else
    reliant_of[old]=$old/reliant
    bench_of[old]=$old/bench_tool_path
  fi
  [ -x "${reliant_of[old]}" ] && [ -x "${bench_of[old]}" ] ||
    { echo "OLD_BUILD=$OLD_BUILD holds no reliant and bench_tool_path"; exit 2; }
  sets=(old new)
fi
reliant=${reliant_of[new]}  # the store's set-up, and the idle streams' gateway
floor=$build/tests/bench/bench_relay_floor
smoke_need "$reliant" "${bench_of[new]}" "$build/tests/bench/bench_grpc_transport" \
  "$build/tests/bench/bench_handoff" "$floor"
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
port=$(free_port_block 50)
# Per set: its nats-server, gateway (daemon port +10, +11, +12) and store.
declare -A nats_port_of db_of nats_pid_of gateway_pid_of daemon_pids_of
nats_port_of[new]=$port
nats_port_of[old]=$((port + 30))
for set in "${sets[@]}"; do
  db_of[$set]="--db-driver sqlite --db-url $work/$set.db"
  nats-server -a 127.0.0.1 -p "${nats_port_of[$set]}" >"$work/nats-$set.log" 2>&1 &
  pids+=($!)
  nats_pid_of[$set]=$!
  # Each set migrates its own store: an older binary may not know a newer schema.
  ${reliant_of[$set]} db migrate up ${db_of[$set]} >/dev/null
  ${reliant_of[$set]} admin user create --email bench@example.com ${db_of[$set]} >/dev/null
done
token_of() { ${reliant_of[$1]} admin token create --user bench@example.com ${db_of[$1]} | tail -n 1; }
declare -A token
for set in "${sets[@]}"; do token[$set]=$(token_of "$set"); done
sleep 0.3
start_gateway() {  # SET ID PORT [FLAGS...]
  ${reliant_of[$1]} server gateway ${db_of[$1]} --nats-url "nats://127.0.0.1:${nats_port_of[$1]}" \
    --gateway-id "$2" --bind-address 127.0.0.1 --daemon-port "$3" --frontend-port $(($3 + 1)) \
    --health-port $(($3 + 2)) --disable-tls "${@:4}" >"$work/$2.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do
    [ "$(curl -s "http://127.0.0.1:$(($3 + 2))/ready" || true)" = '{"status":"ready"}' ] && return
    sleep 0.1
  done
  echo "gateway $2 not ready"; cat "$work/$2.log"; exit 1
}
start_daemon() {  # SET NAME
  mkdir -p "$work/$1-$2"
  echo "${token[$1]}" | HOME="$work/$1-$2" ${reliant_of[$1]} daemon start --token --name "$2" \
    --grpc-url "http://127.0.0.1:$((${nats_port_of[$1]} + 10))" --working-dir "$work/$1-$2" \
    >"$work/$1-$2.log" 2>&1 &
  pids+=($!)
  daemon_pids_of[$1]+="$! "
}
active() {  # SET
  sqlite3 "$work/$1.db" "SELECT COUNT(*) FROM daemons WHERE status = 'active'" 2>/dev/null || echo 0
}
wait_active() {  # SET COUNT
  for _ in $(seq 1 200); do [ "$(active "$1")" -ge "$2" ] && return; sleep 0.1; done
  echo "only $(active "$1") of $2 $1 daemons active"; exit 1
}
client_wrap=()  # what the client runs under (measure(), with SYSCALLS)
round_trip() {  # SET ARGS... — the set's client against the set's nats-server and store
  local set=$1
  shift
  "${client_wrap[@]}" ${bench_of[$set]} round-trip --nats-url "nats://127.0.0.1:${nats_port_of[$set]}" ${db_of[$set]} \
    --user bench@example.com "$@"
}

for set in "${sets[@]}"; do
  start_gateway "$set" "gw-$set" $((${nats_port_of[$set]} + 10))
  gateway_pid_of[$set]=${pids[-1]}
  start_daemon "$set" d1
  wait_active "$set" 1
done

echo "== hand-over round trip between two executors (bench_handoff: two hand-overs)"
handoff=$("$build/tests/bench/bench_handoff" --benchmark_min_time="$handoff_time" 2>/dev/null | grep BM_)
echo "$handoff"
for case in 0 1 2; do
  smoke_expect "$handoff" "^BM_ExecutorHandOverRoundTrip/$case/real_time +[0-9.]+ [mun]?s " bench_handoff
done
echo
per_round=$((calls / rounds))
declare -A ratios
for round in $(seq 1 "$rounds"); do
  for set in "${sets[@]}"; do
    echo "== round $round of $rounds, $set: gRPC floor (bench_grpc_transport), then $per_round tool calls"
    grpc_out=$("$build/tests/bench/bench_grpc_transport" "$per_round")
    echo "$grpc_out"
    grpc=$(grep "bare gRPC callback bidi" <<<"$grpc_out")
    grpc_p50=$(awk '{print $(NF-4)}' <<<"$grpc")
    grpc_p99=$(awk '{print $(NF-1)}' <<<"$grpc")
    smoke_positive "$grpc_p50" "bench_grpc_transport's floor p50"
    smoke_positive "$grpc_p99" "bench_grpc_transport's floor p99"
    result=$(round_trip "$set" --calls "$per_round" --grpc-floor-p50 "$grpc_p50" \
      --grpc-floor-p99 "$grpc_p99")
    echo "$result"
    smoke_expect "$result" "^tool round trip: .*\($per_round calls, 0 errors\)" "bench_tool_path round-trip"
    smoke_expect "$result" "^ratio to the floor .* p50 +[0-9.]+x +p99 +[0-9.]+x" "bench_tool_path round-trip"
    ratio=$(awk '/^ratio to the floor/ {print $9, $11}' <<<"$result" | tr -d x)
    # Sane: every figure measured, and no percentile below the one it follows.
    smoke_positive "$(awk '{print $1}' <<<"$ratio")" "bench_tool_path's ratio p50"
    smoke_positive "$(awk '{print $2}' <<<"$ratio")" "bench_tool_path's ratio p99"
    for line in "floor: bare nats.c request-reply" "tool round trip"; do
      [ -z "$smoke" ] || awk -v l="$line" 'index($0, l) == 1 {
        for (i = 1; i <= NF; i++) { if ($i == "p50") p50 = $(i + 1); if ($i == "p99") p99 = $(i + 1) }
        exit !(p50 > 0 && p99 >= p50) }' <<<"$result" ||
        smoke_fail "bench_tool_path round-trip: '$line' has no p50 > 0 with p99 ≥ p50: $result"
    done
    ratios[$set]+="$ratio"$'\n'
    echo
  done
done
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
for set in "${sets[@]}"; do
  p50s=$(awk 'NF { print $1 }' <<<"${ratios[$set]}")
  p99s=$(awk 'NF { print $2 }' <<<"${ratios[$set]}")
  echo "$set: ratio to the floor, median of $rounds rounds      p50 $(median <<<"$p50s")x   p99 $(median <<<"$p99s")x" \
    "  (targets: ≤ 1.5x, ≤ 3x; by round p50: $(tr '\n' ' ' <<<"$p50s")p99: $(tr '\n' ' ' <<<"$p99s"))"
done

echo
echo "== sustained, $daemons daemons, 32 callers: the floor (bench_relay_floor: the same relay of bare" \
  "nats.c and gRPC), then the tool path"
for set in "${sets[@]}"; do
  for i in $(seq 2 "$daemons"); do start_daemon "$set" "d$i"; done
  wait_active "$set" "$daemons"
done
floor_nats=$((port + 45))
nats-server -a 127.0.0.1 -p "$floor_nats" >"$work/nats-floor.log" 2>&1 &
pids+=($!)
floor_nats_pid=$!
sleep 0.3
"$floor" relay --nats-url "nats://127.0.0.1:$floor_nats" --port $((port + 46)) >"$work/relay.log" 2>&1 &
pids+=($!)
floor_relay_pid=$!
for _ in $(seq 1 50); do grep -q "^relaying" "$work/relay.log" && break; sleep 0.1; done
grep -q "^relaying" "$work/relay.log" || { echo "the floor's relay did not start"; cat "$work/relay.log"; exit 1; }
floor_daemon_pids=""
for i in $(seq 0 $((daemons - 1))); do
  "$floor" daemon --address "127.0.0.1:$((port + 46))" --index "$i" >"$work/floor-d$i.log" 2>&1 &
  pids+=($!)
  floor_daemon_pids+="$! "
done
sustained_calls=$((calls * 3))
TIMEFORMAT='%U %S'  # the client's user and system seconds, as `time` reports them
# Runs COMMAND... and prints its output, then what each group of processes spent a call: CPU, and
# context switches (threads woken or put aside). With SYSCALLS=1, also the system calls each group
# made a call (perf stat's count of raw_syscalls:sys_enter; it costs each call a little).
measure() {  # LABEL DAEMON_PIDS GATEWAY_PID NATS_PID COMMAND...
  local label=$1 groups=("$2" "$3" "$4") g per_call="" counters=()
  shift 4
  for g in 0 1 2; do
    ticks_before[g]=$(cpu_ticks ${groups[g]})
    switches_before[g]=$(context_switches ${groups[g]})
  done
  if [ -n "${SYSCALLS:-}" ]; then
    for g in 0 1 2; do
      # perf lists each process's threads when it starts, and gives up if one ends meanwhile
      # (gRPC's come and go): it tries again.
      for _ in 1 2 3 4 5; do
        perf stat -x, -e raw_syscalls:sys_enter -o "$work/syscalls$g.txt" \
          -p "$(xargs <<<"${groups[g]}" | tr ' ' ,)" 2>/dev/null &
        sleep 0.3
        kill -0 $! 2>/dev/null && break
      done
      counters+=($!)
    done
    client_wrap=(perf stat -x, -e raw_syscalls:sys_enter -o "$work/syscalls3.txt" --)
    declare -F "$1" >/dev/null || set -- "${client_wrap[@]}" "$@"  # a function wraps its client
  fi
  { time "$@" >"$work/sustained.txt"; } 2>"$work/client_time.txt"
  echo "$label: $(cat "$work/sustained.txt")"
  if [ -n "${SYSCALLS:-}" ]; then
    client_wrap=()
    kill -INT "${counters[@]}"
    wait "${counters[@]}" || true
    for g in 0 1 2 3; do awk -F, '/raw_syscalls/ {print $1}' "$work/syscalls$g.txt"; done |
      awk -v calls="$sustained_calls" -v l="$label" '{ v[NR] = $1 / calls } END {
        printf "%s: system calls a call: daemons %.2f, gateway %.2f, nats-server %.2f, client %.2f\n",
          l, v[1], v[2], v[3], v[4] }'
  fi
  for g in 0 1 2; do
    per_call+=" $(($(cpu_ticks ${groups[g]}) - ticks_before[g]))"
    per_call+=" $(($(context_switches ${groups[g]}) - switches_before[g]))"
  done
  awk -v calls="$sustained_calls" -v hz="$(getconf CLK_TCK)" -v l="$label" -v f="$per_call" \
    -v client="$(tail -n 1 "$work/client_time.txt")" 'BEGIN {
    split(f, v, " "); split(client, c, " ")
    us = 1e6 / hz / calls
    printf "%s: CPU a call: daemons %.1f us, gateway %.1f us, nats-server %.1f us, client %.1f us;" \
      " context switches a call: daemons %.2f, gateway %.2f, nats-server %.2f\n", l,
      v[1] * us, v[3] * us, v[5] * us, (c[1] + c[2]) * 1e6 / calls, v[2] / calls, v[4] / calls,
      v[6] / calls }'
}
# Alternated twice when comparing, so that a drift of the machine's speed hits all alike.
passes=1
[ "${#sets[@]}" -eq 1 ] || passes=2
declare -A per_second
for pass in $(seq 1 "$passes"); do
  measure floor "$floor_daemon_pids" "$floor_relay_pid" "$floor_nats_pid" \
    "$floor" load --nats-url "nats://127.0.0.1:$floor_nats" --daemons "$daemons" \
    --calls "$sustained_calls" --concurrency 32
  floor_out=$(cat "$work/sustained.txt")
  smoke_expect "$floor_out" "^floor, 32 callers +[0-9.]+ calls/s .*\($daemons daemons\)" \
    "bench_relay_floor load"
  per_second[floor]+="$(awk '{print $4}' <<<"$floor_out") "
  for set in "${sets[@]}"; do
    measure "$set" "${daemon_pids_of[$set]}" "${gateway_pid_of[$set]}" "${nats_pid_of[$set]}" \
      round_trip "$set" --calls "$sustained_calls" --concurrency 32
    sustained=$(cat "$work/sustained.txt")
    smoke_expect "$sustained" "^sustained, 32 callers +[0-9.]+ calls/s .*\($daemons daemons, 0 errors\)" \
      "bench_tool_path round-trip --concurrency 32"
    smoke_positive "$(awk '{print $4}' <<<"$sustained")" "bench_tool_path's sustained calls/s"
    per_second[$set]+="$(awk '{print $4}' <<<"$sustained") "
  done
done
for set in "${sets[@]}"; do
  awk -v set="$set" -v path="${per_second[$set]}" -v floor="${per_second[floor]}" 'BEGIN {
    n = split(path, p, " "); split(floor, f, " ")
    for (i = 1; i <= n; i++) { sp += p[i]; sf += f[i] }
    printf "%s: sustained %.0f calls/s, the floor %.0f: %.2fx the floor (mean of %d passes; target ≥ 10000 calls/s)\n",
      set, sp / n, sf / n, sp / sf, n }'
done

echo
echo "== idle daemon streams on one gateway ($idle)"
# All the streams come from this one address, each on a connection of its own, opened 200 at a
# time: the gateway's caps per address and on connections not yet authenticated (256 and 128 by
# default, against floods) would turn most of them away.
start_gateway new idle-gw $((port + 20)) --grpc-max-connections $((idle + 100)) \
  --grpc-max-connections-per-address 0 --grpc-max-unauthenticated-connections 1000
gw_pid=${pids[-1]}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
before=$(rss_kb "$gw_pid")
${bench_of[new]} hold-streams --gateway "127.0.0.1:$((port + 20))" --token "${token[new]}" \
  --streams "$idle" >"$work/hold.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do grep -q "^holding" "$work/hold.log" && break; sleep 0.2; done
grep -q "^holding" "$work/hold.log" || {
  echo "streams not held: $(grep -c ' connected ' "$work/idle-gw.log") of $idle registered"
  cat "$work/hold.log"
  exit 1
}
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
