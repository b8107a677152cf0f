#!/usr/bin/env bash
# Spawned sub-agents on the distributed topology, real processes on loopback: Postgres and
# nats-server (the fixtures), a gateway, a daemon, two workers and two api replicas. A chat's
# agent (the scripted model) spawns two sub-agents — a slow one and a quick one — waits a little
# on the slow one, then stops it. While the slow one's command runs, the worker holding that
# step is killed with SIGKILL. The other worker carries every run to its end: each sub-agent
# exists once (one run, one row, one prompt), the quick one's command ran once, both ends reach
# the parent as exactly one report each, and the parent completes with nothing left running.
#   spawn_distributed.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
integration_setup spawn
"$reliant" admin user create --email dev@example.com --db-url "$url" >/dev/null
token=$("$reliant" admin token create --user dev@example.com --name laptop --db-url "$url" | tail -n 1)

base=$(free_port_block 20)
start_gateway gw "$base" --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
start_daemon laptop "$token" "$base"
start_servers "$base" 2
wait_daemons_active 1
api="http://127.0.0.1:$((base + 12))"
post() {  # PATH BODY → the JSON answer (fails on a non-2xx status)
  curl -sf -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary "$2" "$api$1" || fail "POST $1 failed"
}

# The message: one tool call a turn. A sub-agent's command is in its prompt as \u0060…\u0060
# (backticks the parent's own plan does not see).
message=$(python3 - <<'PY'
import json
q = "\\u0060"
def spawn(title, command):
    return '`tool:spawn {"preset":"general","title":"%s","prompt":"%s%s%s"}`' % (title, q, command, q)
print(json.dumps({"text": " ".join([
    spawn("slow", "echo slow >> spawned.txt; sleep 8; echo slow-done"),
    spawn("quick", "echo quick >> spawned.txt"),
    '`tool:spawn_status {"agent_id":"slow","wait":true,"timeout_s":3}`',
    '`tool:spawn_stop {"agent_id":"slow"}`'])}))
PY
)
chat=$(post /api/v1/chats '{"title":"spawn","inputs":{"spawn_presets":["general"]}}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
run=$(post "/api/v1/chats/$chat/messages" "$message" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["run_id"])')

# Kill the worker that holds the slow sub-agent's command while it runs.
victim=""
deadline=$((SECONDS + 30))
while [ "$SECONDS" -lt "$deadline" ]; do
  victim=$(q "SELECT t.lease_owner FROM engine_tasks t JOIN spawned_agents a ON a.id = t.run_id
              JOIN workflow_history h ON h.run_id = t.run_id AND h.seq = t.event_seq
              WHERE a.parent_run_id = '$run' AND a.title = 'slow' AND t.kind = 'activity'
                AND t.status = 'leased' AND h.body_json LIKE '%sleep 8%' LIMIT 1")
  [ -n "$victim" ] && grep -q slow "$work/laptop/spawned.txt" 2>/dev/null && break
  victim=""
  sleep 0.1
done
[ -n "$victim" ] || fail "never saw the slow sub-agent's command leased while it ran; its tasks:
$(q "SELECT t.kind, t.status, t.lease_owner FROM engine_tasks t JOIN spawned_agents a ON a.id = t.run_id WHERE a.parent_run_id = '$run'")"
kill -9 "$(eval echo "\$pid_$victim")"
echo "killed worker $victim, which held the slow sub-agent's command"

status=""
for _ in $(seq 1 900); do
  status=$(q "SELECT status FROM workflow_runs WHERE id = '$run'")
  [ "$status" != running ] && break
  sleep 0.1
done
[ "$status" = completed ] || fail "the parent ended '$status' (90 s after the kill)"

# Each sub-agent once: one row, one run (a child of the parent), one prompt, one report.
[ "$(q "SELECT COUNT(*) FROM spawned_agents WHERE parent_run_id = '$run'")" = 2 ] ||
  fail "sub-agents: $(q "SELECT id, title FROM spawned_agents WHERE parent_run_id = '$run'")"
[ "$(q "SELECT COUNT(*) FROM workflow_runs WHERE parent_run_id = '$run'")" = 2 ] ||
  fail "child runs: $(q "SELECT id, status FROM workflow_runs WHERE parent_run_id = '$run'")"
[ "$(q "SELECT COUNT(*) FROM workflow_runs WHERE parent_run_id = '$run' AND status = 'running'")" = 0 ] ||
  fail "a sub-agent still runs after its parent completed"
[ "$(q "SELECT COUNT(*) FROM messages WHERE chat_id = '$chat' AND id LIKE 'spawn-%'")" = 2 ] ||
  fail "prompts: $(q "SELECT id, thread FROM messages WHERE chat_id = '$chat' AND id LIKE 'spawn-%'")"
[ "$(q "SELECT status FROM workflow_runs r JOIN spawned_agents a ON a.id = r.id WHERE a.parent_run_id = '$run' AND a.title = 'quick'")" = completed ] ||
  fail "the quick sub-agent did not complete"
[ "$(grep -c quick "$work/laptop/spawned.txt")" = 1 ] || fail "the quick command ran $(grep -c quick "$work/laptop/spawned.txt") times"
reports=$(q "SELECT b.body_json FROM messages m JOIN content_blocks b ON b.message_id = m.id
             WHERE m.chat_id = '$chat' AND m.thread = '' AND m.role = 'user' AND b.body_json LIKE '%[general]%'")
# (Reports that arrive together are one message: count the reports, not the messages.)
python3 - "$reports" <<'PY' || fail "each sub-agent's report once: $reports"
import json, re, sys
texts = [json.loads(line)["text"] for line in sys.argv[1].splitlines() if line]
reports = [r for t in texts for r in re.split(r"\n\n(?=\[general\] )", t)]
quick = [r for r in reports if r.startswith("[general] `echo quick")]
slow = [r for r in reports if r.startswith("[general] `echo slow") or
        re.match(r"\[general\] agent \S+ was stopped", r)]
assert len(quick) == 1 and len(slow) == 1 and len(reports) == 2, reports
PY
echo "PASS: two sub-agents across two workers, one stopped (or ended) and one finished, after kill -9 of $victim"
