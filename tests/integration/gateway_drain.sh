#!/usr/bin/env bash
# A rolling update drains (docs/architecture.md §6, "Draining a gateway"), on the real binaries:
# nats-server and Postgres (the project's fixtures), two gateways, one daemon that knows both. A
# durable tool call that takes 3 s runs on the daemon; the gateway holding the daemon gets
# SIGTERM while it runs. Its /ready answers 503 at once; the call returns its output, and its
# side effect happened once; the gateway exits 0 well within its drain timeout, having sent the
# daemon away after the answer; the daemon says so and registers with the other gateway at once
# (well inside its reconnect backoff, whose shortest wait is 250 ms); the next calls succeed
# through the other gateway. Then a second SIGTERM stops a drain at once.
#   gateway_drain.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
integration_setup drain
"$reliant" admin user create --email dev@example.com --db-url "$url" >/dev/null
token=$("$reliant" admin token create --user dev@example.com --name laptop --db-url "$url" | tail -n 1)
now_ms() { date +%s%3N; }
drain_timeout=10

base=$(free_port_block 40)
gw_urls=""
for g in 1 2; do
  port=$((base + 10 * g))
  start_gateway "gw$g" "$port" --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6 \
    --drain-timeout "$drain_timeout"
  eval "pid_gw$g=$last_pid"
  gw_urls="$gw_urls${gw_urls:+,}http://127.0.0.1:$port"
done
"$reliant" server gateway --help | grep -q -- "--drain-timeout" || fail "no --drain-timeout in --help"

mkdir -p "$work/laptop"
echo "$token" | HOME="$work/laptop" "$reliant" daemon start --token --name laptop \
  --grpc-url "$gw_urls" --working-dir "$work/laptop" --heartbeat-interval 1 --stale-timeout 3 \
  >"$work/laptop.log" 2>&1 &
pids+=($!)
wait_daemons_active 1
daemon_id=$(q "SELECT id FROM daemons WHERE name = 'laptop'")
holder=$(q "SELECT gateway_id FROM daemons WHERE id = '$daemon_id'")
case $holder in
  gw1) other=gw2; holder_port=$((base + 10)); other_port=$((base + 20)) ;;
  gw2) other=gw1; holder_port=$((base + 20)); other_port=$((base + 10)) ;;
  *) fail "the daemon is held by '$holder'" ;;
esac
holder_pid=$(eval echo "\$pid_$holder")
echo "daemon $daemon_id is held by $holder (pid $holder_pid)"

call() {  # COMMAND [--sync]
  "$reliant" tool call --db-url "$url" --nats-url "$nats_url" --user dev@example.com \
    --daemon laptop --tool bash --input "{\"command\":\"$1\"}" --timeout 30 ${2:-} 2>>"$work/calls.log"
}

# A call that takes 3 s and leaves a mark each time it runs.
call 'sleep 3; echo ran >> marks; echo done' >"$work/call.out" &
call_pid=$!
pids+=($call_pid)
for _ in $(seq 1 100); do
  [ "$(q "SELECT status FROM tool_requests")" = dispatched ] && break
  sleep 0.05
done
[ "$(q "SELECT status FROM tool_requests")" = dispatched ] || fail "the call did not reach the daemon"
sleep 0.5

term_ms=$(now_ms)
kill -TERM "$holder_pid"
ready=""
for _ in $(seq 1 50); do
  ready=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((holder_port + 2))/ready" || true)
  [ "$ready" = 503 ] && break
  sleep 0.02
done
[ "$ready" = 503 ] || fail "the draining gateway's /ready answered $ready"
ready_ms=$(now_ms)
body=$(curl -s "http://127.0.0.1:$((holder_port + 2))/ready" || true)
grep -q '"reason":"draining"' <<<"$body" || fail "the draining gateway's /ready said: $body"
echo "SIGTERM to $holder: /ready answered 503 after $((ready_ms - term_ms)) ms"

set +e
wait "$call_pid"
call_code=$?
set -e
call_ms=$(now_ms)
[ "$call_code" -eq 0 ] || fail "the call in flight failed ($call_code): $(cat "$work/call.out" "$work/calls.log")"
grep -q '"content": "done\\n"' "$work/call.out" || fail "the call's output: $(cat "$work/call.out")"
[ "$(grep -c '"content"' "$work/call.out")" -eq 1 ] || fail "more than one answer: $(cat "$work/call.out")"
[ "$(cat "$work/laptop/marks")" = ran ] || fail "the call ran $(wc -l <"$work/laptop/marks") times"
echo "the call in flight answered once, $((call_ms - term_ms)) ms after the SIGTERM"

wait_gone "$holder_pid" $((drain_timeout * 10 + 20)) "$holder still runs $((drain_timeout + 2)) s after SIGTERM"
holder_code=0
wait "$holder_pid" || holder_code=$?
exit_ms=$(now_ms)
[ "$holder_code" -eq 0 ] || fail "$holder exited with $holder_code"
drain_ms=$((exit_ms - term_ms))
[ "$drain_ms" -lt $((drain_timeout * 1000)) ] || fail "the drain took $drain_ms ms, past its timeout"
grep -q "drained: 1 daemons sent elsewhere" "$work/$holder.log" || fail "$holder did not say it drained"
echo "$holder drained and exited 0, $drain_ms ms after the SIGTERM"

# The daemon: told to go after the answer, it registered with the other gateway at once.
for _ in $(seq 1 50); do
  [ "$(q "SELECT gateway_id || ' ' || status FROM daemons WHERE id = '$daemon_id'")" = "$other active" ] && break
  sleep 0.1
done
now=$(q "SELECT gateway_id || ' ' || status FROM daemons WHERE id = '$daemon_id'")
[ "$now" = "$other active" ] || fail "the daemon's row after the drain: $now"
grep -q "gateway http://127.0.0.1:$holder_port is shutting down; connecting to the next gateway at once" \
  "$work/laptop.log" || fail "the daemon did not say its gateway went away"
grep -q "connected to http://127.0.0.1:$other_port as daemon" "$work/laptop.log" ||
  fail "the daemon did not connect to $other"
grep -q "reconnecting with backoff" "$work/laptop.log" && fail "the daemon backed off"
# Milliseconds between the daemon's two lines (spdlog's text lines start with the local time).
reconnect_ms=$(python3 - "$work/laptop.log" "$holder_port" "$other_port" <<'EOF'
import re, sys
from datetime import datetime
left = joined = None
for line in open(sys.argv[1]):
    m = re.match(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\]", line)
    if not m:
        continue
    at = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
    if "127.0.0.1:%s is shutting down" % sys.argv[2] in line:
        left = at
    elif left and "connected to http://127.0.0.1:%s as daemon" % sys.argv[3] in line:
        joined = at
        break
print(int((joined - left).total_seconds() * 1000) if left and joined else -1)
EOF
)
[ "$reconnect_ms" -ge 0 ] || fail "no reconnection found in the daemon's log"
[ "$reconnect_ms" -lt 250 ] || fail "the daemon took $reconnect_ms ms to reconnect (its backoff waits 250 ms at least)"
echo "the daemon reconnected to $other $reconnect_ms ms after its gateway said it was going away"

out=$(call 'echo after the drain' --sync) || fail "sync call after the drain: $out"
grep -q '"content": "after the drain\\n"' <<<"$out" || fail "wrong answer after the drain: $out"
out=$(call 'echo durable after the drain') || fail "durable call after the drain: $out"
grep -q '"content": "durable after the drain\\n"' <<<"$out" || fail "wrong answer: $out"
[ "$(cat "$work/laptop/marks")" = ran ] || fail "the first call ran again"
dupes=$(q "SELECT COUNT(*) FROM (SELECT request_id FROM tool_requests GROUP BY request_id HAVING COUNT(*) > 1) d")
[ "$dupes" -eq 0 ] || fail "$dupes duplicated tool requests"
open=$(q "SELECT COUNT(*) FROM tool_requests WHERE status <> 'completed'")
[ "$open" -eq 0 ] || fail "$open durable requests left open"
echo "calls after the drain go through $other"

# A second signal stops a drain at once: the surviving gateway drains a call of 30 s.
call 'sleep 30; echo late' >"$work/late.out" 2>&1 &
late_pid=$!
pids+=($late_pid)
for _ in $(seq 1 100); do
  [ "$(q "SELECT COUNT(*) FROM tool_requests WHERE status = 'dispatched'")" = 1 ] && break
  sleep 0.05
done
other_pid=$(eval echo "\$pid_$other")
second_ms=$(now_ms)
kill -TERM "$other_pid"
sleep 0.3
kill -0 "$other_pid" 2>/dev/null || fail "$other did not drain: it stopped at the first signal"
kill -TERM "$other_pid"
wait_gone "$other_pid" 30 "$other still runs after a second SIGTERM"
other_code=0
wait "$other_pid" || other_code=$?
[ "$other_code" -eq 0 ] || fail "$other exited with $other_code after a second SIGTERM"
echo "a second SIGTERM stopped $other's drain after $(($(now_ms) - second_ms)) ms"
echo "timings: /ready 503 after $((ready_ms - term_ms)) ms, call answered after $((call_ms - term_ms)) ms, drain $drain_ms ms (timeout ${drain_timeout} s), daemon reconnected in $reconnect_ms ms"
echo "PASS"
