#!/usr/bin/env bash
# Instructions a tools daemon executes a tool call, for one build or several (issue 44): a stable
# figure where timings drift 2x within minutes. For each `reliant` given, a tools daemon runs
# under callgrind behind this build's gateway and nats-server (SQLite store), twice: once
# serving WARM `echo` calls (bench_tool_path, 4 callers), once serving WARM + CALLS; the difference
# over CALLS is its instructions a call, start-up, shutdown and what the first calls do once
# (a library's lazy set-up: OpenSSL's random generator, symbols bound on first use) left out, as
# the floor's count leaves them out (bench_relay_floor, 2,001 calls minus 1). With MEASURE=gateway
# the roles swap: the given `reliant` is the gateway, under callgrind, and this build's is the
# daemon.
#   [CALLS=N] [WARM=N] [MEASURE=daemon|gateway] tools/daemon_instructions.sh [LABEL=RELIANT ...]
#   (defaults: 2000 calls after 50, the daemon; this build's reliant as "new"). KEEP=DIR keeps
#   each run's callgrind output there, as LABEL-CALLS.callgrind (callgrind_annotate reads it).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
source tools/ports.sh
calls=${CALLS:-2000}
warm=${WARM:-50}
measure=${MEASURE:-daemon}
case "$measure" in
  daemon | gateway) ;;
  *) echo "MEASURE is daemon or gateway, not '$measure'" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || set -- "new=$build/src/app/reliant"
this_build=$build/src/app/reliant
bench=$build/tests/bench/bench_tool_path
[ -x "$this_build" ] && [ -x "$bench" ] ||
  cmake --build "$build" --target reliant bench_tool_path -j"$(nproc)" >/dev/null
command -v valgrind >/dev/null || { echo "valgrind is missing (apt-get install valgrind)"; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

stop_own() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

# Instructions of one daemon or gateway (RELIANT, as MEASURE says) that serves CALLS calls,
# start to exit. Run in a command substitution, so in a subshell: its processes are its own to
# stop, when it exits however.
measured_instructions() {  # RELIANT CALLS LABEL
  local reliant=$1 n=$2 label=$3 run port db token measured gateway_binary=$this_build daemon_binary=$reliant
  local callgrind gateway_wrap=() daemon_wrap=()
  pids=()
  trap stop_own EXIT
  run=$work/run-$BASHPID  # this subshell's own
  mkdir "$run"
  callgrind=(valgrind --tool=callgrind --callgrind-out-file="$run/callgrind.out")
  if [ "$measure" = gateway ]; then
    gateway_binary=$reliant
    daemon_binary=$this_build
    gateway_wrap=("${callgrind[@]}")
  else
    daemon_wrap=("${callgrind[@]}")
  fi
  port=$(free_port_block 3)
  db="--db-driver sqlite --db-url $run/store.db"
  nats-server -a 127.0.0.1 -p "$port" >"$run/nats.log" 2>&1 &
  pids+=($!)
  "$this_build" db migrate up $db >/dev/null
  "$this_build" admin user create --email bench@example.com $db >/dev/null
  token=$("$this_build" admin token create --user bench@example.com $db | tail -n 1)
  "${gateway_wrap[@]}" "$gateway_binary" server gateway $db --nats-url "nats://127.0.0.1:$port" \
    --gateway-id gw --bind-address 127.0.0.1 --daemon-port $((port + 1)) \
    --frontend-port $((port + 2)) --health-port $((port + 3)) --disable-tls \
    >"$run/gateway.log" 2>&1 &
  pids+=($!)
  [ "$measure" = gateway ] && measured=$!
  for _ in $(seq 1 300); do  # up to a minute: under callgrind a gateway starts slowly
    [ "$(curl -s "http://127.0.0.1:$((port + 3))/ready" || true)" = '{"status":"ready"}' ] && break
    sleep 0.2
  done
  mkdir -p "$run/home"
  echo "$token" | HOME="$run/home" "${daemon_wrap[@]}" "$daemon_binary" daemon start --token \
    --name d1 --grpc-url "http://127.0.0.1:$((port + 1))" --working-dir "$run/home" \
    >"$run/daemon.log" 2>&1 &
  pids+=($!)
  [ "$measure" = daemon ] && measured=$!
  for _ in $(seq 1 300); do
    [ "$(sqlite3 "$run/store.db" "SELECT COUNT(*) FROM daemons WHERE status = 'active'" 2>/dev/null)" = 1 ] && break
    sleep 0.2
  done
  sleep 1
  if [ "$n" -gt 0 ]; then
    "$bench" round-trip --nats-url "nats://127.0.0.1:$port" $db --user bench@example.com \
      --calls "$n" --concurrency 4 >"$run/calls.log"
    grep -q "(1 daemons, 0 errors)" "$run/calls.log" ||
      { echo "the calls failed: $(cat "$run/calls.log")"; exit 1; }
  fi
  kill -TERM "$measured"
  wait "$measured" 2>/dev/null || true
  local instructions
  instructions=$(awk '/^(summary|totals):/ {print $2; exit}' "$run/callgrind.out")
  [ -z "${KEEP:-}" ] || cp "$run/callgrind.out" "$KEEP/$label-$n.callgrind"
  stop_own
  echo "$instructions"
}

echo "load: $(uptime | sed 's/.*load/load/')"
for spec in "$@"; do
  label=${spec%%=*}
  reliant=${spec#*=}
  idle=$(measured_instructions "$reliant" "$warm" "$label")
  busy=$(measured_instructions "$reliant" $((warm + calls)) "$label")
  printf "%-8s %9d instructions a tool call, the %s (%d calls: %d; %d: %d)\n" "$label" \
    $(((busy - idle) / calls)) "$measure" $((warm + calls)) "$busy" "$warm" "$idle"
done
