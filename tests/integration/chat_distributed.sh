#!/usr/bin/env bash
# The chat flow on the distributed topology, real processes on loopback: Postgres and
# nats-server (the fixtures), a gateway, a daemon, two workers and two api replicas. A message
# sent through one api replica's REST API is answered by the agent (scripted model → bash on the
# daemon through NATS and the gateway), and the answer streams from the *other* replica. Then a
# grpc-js client sends a message running a slow command and follows the gRPC stream; the worker
# holding that step is killed with SIGKILL: the other worker takes the step over, the command
# runs once, and the client sees the output and the run end, with one final answer.
#   chat_distributed.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
integration_setup chat
"$reliant" admin user create --email dev@example.com --db-url "$url" >/dev/null
token=$("$reliant" admin token create --user dev@example.com --name laptop --db-url "$url" | tail -n 1)

base=$(free_port_block 20)
start_gateway gw "$base" --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
start_daemon laptop "$token" "$base"
start_servers "$base" 2
wait_daemons_active 1
api1="http://127.0.0.1:$((base + 12))"
api2="http://127.0.0.1:$((base + 14))"
post() {  # API PATH BODY → the JSON answer (fails on a non-2xx status)
  curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary "$3" "$1$2" || fail "POST $1$2 failed"
}
field() { sed -E "s/.*\"$1\":\"?([^\",}]*)\"?.*/\1/"; }

# 1. Send through api1, stream from api2 (another replica): every update in order, to the end.
chat=$(post "$api1" /api/v1/chats '{"title":"distributed"}' | field id)
sent=$(post "$api1" "/api/v1/chats/$chat/messages" '{"text":"list the files and run `echo hi from $(basename $PWD)`"}')
seq=$(field seq <<<"$sent")
run=$(field run_id <<<"$sent")
timeout 30 curl -sN -H "Authorization: Bearer $token" \
  "$api2/api/v1/updates?chat_id=$chat&since_seq=$((seq - 1))" >"$work/stream.txt" 2>/dev/null &
stream_pid=$!
for _ in $(seq 1 300); do
  grep -q '"status":"idle"' "$work/stream.txt" 2>/dev/null && break
  sleep 0.1
done
kill "$stream_pid" 2>/dev/null || true
grep -q '"status":"idle"' "$work/stream.txt" || fail "no final status streamed from api2: $(cat "$work/stream.txt")"
grep -q 'hi from laptop' "$work/stream.txt" || fail "the daemon's output did not stream back"
ids=$(grep '^id: ' "$work/stream.txt" | cut -d' ' -f2 | tr '\n' ' ')
expected=$(seq "$seq" $((seq + 7)) | tr '\n' ' ')
[ "$ids" = "$expected" ] || fail "stream ids '$ids', expected '$expected' (in order, no gap)"
echo "message via api1, answer streamed from api2: ids $ids"

# 2. A grpc-js client (tests/interop) sends a message on api2's gRPC port and follows the
# stream; kill -9 the worker running the slow tool step; the other one finishes the run.
interop=$(cd "$(dirname "$0")/../interop" && pwd)
proto=$(cd "$(dirname "$0")/../../proto" && pwd)
node "$interop/grpc_chat.mjs" "$proto" "127.0.0.1:$((base + 18))" "$token" \
  'run `echo started >> runs.txt; sleep 6; echo finished`' "$chat" >"$work/grpc-js.log" 2>&1 &
client=$!
run=""
for _ in $(seq 1 100); do
  run=$(sed -n 's/.*"runId":"\([^"]*\)".*/\1/p' "$work/grpc-js.log" | head -n 1)
  [ -n "$run" ] && break
  sleep 0.1
done
[ -n "$run" ] || fail "the grpc-js client did not send: $(cat "$work/grpc-js.log")"
victim=""
polls=0
deadline=$((SECONDS + 30))
while [ "$SECONDS" -lt "$deadline" ]; do
  polls=$((polls + 1))
  victim=$(q "SELECT lease_owner FROM engine_tasks t JOIN workflow_history h ON h.run_id = t.run_id AND h.seq = t.event_seq
              WHERE t.run_id = '$run' AND t.kind = 'activity' AND t.status = 'leased' AND h.body_json LIKE '%\"name\":\"bash\"%' LIMIT 1")
  [ -n "$victim" ] && [ -s "$work/laptop/runs.txt" ] && break
  victim=""
  sleep 0.1
done
# On failure, what the engine held for the run, to tell a missed window from a step that never leased.
[ -n "$victim" ] || fail "never saw the tool step leased while it ran ($polls polls); the run's tasks:
$(q "SELECT kind, status, attempt, lease_owner, event_seq FROM engine_tasks WHERE run_id = '$run' ORDER BY id")
runs.txt: $(cat "$work/laptop/runs.txt" 2>/dev/null)"
kill -9 "$(eval echo "\$pid_$victim")"
echo "killed worker $victim, which held the tool step"
for _ in $(seq 1 450); do kill -0 "$client" 2>/dev/null || break; sleep 0.1; done
wait "$client" || fail "the grpc-js client did not see the run end idle: $(cat "$work/grpc-js.log")"
grep -q '"kind":"tool_running"' "$work/grpc-js.log" || fail "no tool progress streamed to grpc-js"
grep -q 'finished' "$work/grpc-js.log" || fail "the tool output did not stream to grpc-js: $(cat "$work/grpc-js.log")"
status=""
for _ in $(seq 1 450); do
  status=$(q "SELECT status FROM workflow_runs WHERE id = '$run'")
  [ "$status" != running ] && break
  sleep 0.1
done
[ "$status" = completed ] || fail "the run ended '$status' (45 s after the kill)"
[ "$(wc -l <"$work/laptop/runs.txt")" = 1 ] || fail "the command ran $(wc -l <"$work/laptop/runs.txt") times"
out=$(curl -sf -H "Authorization: Bearer $token" "$api2/api/v1/chats/$chat") || fail "GET chat"
grep -q 'finished' <<<"$out" || fail "the tool's output is not in the chat: $out"
# Run 1: two tool turns and the answer; run 2: one tool turn and the answer — nothing twice.
[ "$(q "SELECT COUNT(*) FROM messages WHERE chat_id = '$chat' AND role = 'assistant'")" = 5 ] \
  || fail "expected 5 assistant messages, got $(q "SELECT COUNT(*) FROM messages WHERE chat_id = '$chat' AND role = 'assistant'")"
# The debug server (127.0.0.1 only): Prometheus metrics and the database write queue.
debug_port=$(sed -n 's/.*debug on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/api1.log" | head -n 1)
metrics=$(curl -sf "http://127.0.0.1:$debug_port/metrics") || fail "no /metrics on :$debug_port"
grep -Eq '^reliant_api_http_requests_total [1-9]' <<<"$metrics" || fail "no request count in /metrics: $metrics"
curl -sf "http://127.0.0.1:$debug_port/debug/db" | grep -q '"write_queue_depth":' || fail "no /debug/db"
echo "PASS: cross-replica streaming; grpc-js saw the run end after kill -9 of $victim; the command ran once"
