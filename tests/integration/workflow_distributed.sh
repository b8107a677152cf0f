#!/usr/bin/env bash
# A project's workflow on the distributed topology, real processes on loopback: Postgres and
# nats-server (the fixtures), a gateway, two daemons told apart by a label, two workers and an
# api. Its nodes choose their daemon: one by a fixed label, one by a CEL template over an input.
# The worker running the slow node is killed with SIGKILL; the other takes the node over, and
# the command runs once. The run then waits for an approval, given with curl over REST, and
# ends with every node's output recorded once. Last, a chat in manual mode (builtin://agent)
# waits for approval of its tool call; curl approves it and the tool runs on the daemon.
#   workflow_distributed.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
integration_setup wfdist
"$reliant" admin user create --email dev@example.com --db-url "$url" >/dev/null
token=$("$reliant" admin token create --user dev@example.com --name laptop --db-url "$url" | tail -n 1)

base=$(free_port_block 20)
start_gateway gw "$base" --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
for d in builder deployer; do start_daemon "$d" "$token" "$base" --labels "role=$d"; done
start_servers "$base" 2
wait_daemons_active 2
api="http://127.0.0.1:$((base + 12))"
call() {  # METHOD PATH [BODY] → the JSON answer; fails on a non-2xx status
  local out
  out=$(curl -s -w '\n%{http_code}' -X "$1" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$api$2")
  # (In a command substitution, so the failure goes to stderr.)
  [[ "${out##*$'\n'}" == 2* ]] || fail "$1 $2: HTTP ${out##*$'\n'} ${out%$'\n'*}" >&2
  echo "${out%$'\n'*}"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1"; }

project=$(call POST /api/v1/projects '{"name":"web"}' | json 'd["id"]')
cat >"$work/where.yaml" <<'YAML'
name: where
inputs:
  target: {type: string, default: builder}  # the run says deployer: the input, not the default, decides
entry: on_builder
nodes:
  - id: on_builder
    type: run
    command: echo "built in $(basename "$PWD")"
    daemon: {labels: {role: builder}}
  - id: on_target
    type: run
    # Slow, so a worker is killed while it runs; the count shows how often it ran.
    command: echo run >> target-runs.txt; sleep 4; echo "ran in $(basename "$PWD") $(wc -l < target-runs.txt) time(s)"
    daemon: "{{ {'labels': {'role': inputs.target} } }}"
  - {id: ship, type: approval, title: "Ship it?"}
  - id: shipped
    type: run
    command: echo "shipped from $(basename "$PWD")"; echo oops >&2; exit 3
    daemon: {labels: {role: builder}}
edges:
  - {from: on_builder, to: on_target}
  - {from: on_target, to: ship}
  - from: ship
    cases:
      - {to: shipped, condition: "nodes.ship.status == 'approved'"}
outputs:
  builder: "{{ nodes.on_builder.stdout }}"
  target: "{{ nodes.on_target.stdout }}"
  shipped: "{{ nodes.shipped.stdout }}"
  shipped_err: "{{ nodes.shipped.stderr }}"
  shipped_code: "{{ nodes.shipped.exit_code }}"
YAML
python3 -c 'import json,sys; print(json.dumps({"source": open(sys.argv[1]).read()}))' "$work/where.yaml" >"$work/body.json"
call POST "/api/v1/projects/$project/workflows" "$(cat "$work/body.json")" >/dev/null
run=$(call POST /api/v1/workflows/runs \
  "{\"workflow\":\"where\",\"project_id\":\"$project\",\"inputs\":{\"target\":\"deployer\"}}" | json 'd["run_id"]')
echo "started run $run"

# Kill -9 the worker holding the slow node once its command runs on the daemon.
victim=""
for _ in $(seq 1 200); do
  if [ -s "$work/deployer/target-runs.txt" ]; then
    victim=$(q "SELECT lease_owner FROM engine_tasks WHERE run_id = '$run' AND kind = 'activity' AND status = 'leased' LIMIT 1")
    [ -n "$victim" ] && break
  fi
  sleep 0.1
done
[ -n "$victim" ] || fail "the slow node never ran on the deployer"
kill -9 "$(eval echo "\$pid_$victim")"
echo "killed $victim while it ran on_target"

# The run goes on elsewhere (once the lost worker's heartbeats are missed: 10 s) and waits for
# the approval.
waiting=""
for _ in $(seq 1 600); do
  waiting=$(call GET "/api/v1/runs/$run" | json '",".join(n["key"] for n in d.get("nodes", []) if n["status"] == "waiting")')
  [ "$waiting" = ship ] && break
  sleep 0.1
done
[ "$waiting" = ship ] || fail "the run does not wait for its approval: $(call GET "/api/v1/runs/$run")"
# An answer for another node is refused; curl approves.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  --data-binary '{"node":"on_builder"}' "$api/api/v1/runs/$run/approve")
[ "$code" = 409 ] || fail "approving a node that does not wait: HTTP $code"
call POST "/api/v1/runs/$run/approve" '{"message":"go"}' >/dev/null
status=""
for _ in $(seq 1 300); do
  status=$(q "SELECT status FROM workflow_runs WHERE id = '$run'")
  [ "$status" != running ] && break
  sleep 0.1
done
[ "$status" = completed ] || fail "the run ended $status: $(q "SELECT error FROM workflow_runs WHERE id = '$run'")"
outputs=$(call GET "/api/v1/runs/$run" | json 'json.dumps(d["result"]["outputs"], sort_keys=True)')
echo "outputs: $outputs"
grep -qF '"builder": "built in builder\n"' <<<"$outputs" || fail "on_builder did not run on the builder"
grep -qF '"target": "ran in deployer 1 time(s)\n"' <<<"$outputs" || fail "on_target did not run once on the deployer"
grep -qF '"shipped": "shipped from builder\n"' <<<"$outputs" || fail "shipped's stdout"
grep -qF '"shipped_err": "oops\n"' <<<"$outputs" && grep -qF '"shipped_code": 3' <<<"$outputs" \
  || fail "shipped's stderr and exit code"
dupes=$(q "SELECT COUNT(*) FROM (SELECT ref_seq FROM workflow_history WHERE run_id = '$run' AND ref_seq > 0 AND kind = 'activity_completed' GROUP BY ref_seq HAVING COUNT(*) > 1) d")
[ "$dupes" = 0 ] || fail "$dupes nodes have more than one recorded result"
# Three nodes, and the step that records the run's end on its conversation.
steps=$(q "SELECT COUNT(*) FROM workflow_history WHERE run_id = '$run' AND kind = 'activity_completed'")
[ "$steps" = 4 ] || fail "$steps results recorded, expected 4"
echo "ok: every node ran once on its daemon, through a worker crash and an approval by curl"

# A chat in manual mode: the tool call waits for approval; curl approves it.
chat=$(call POST /api/v1/chats '{"title":"manual"}' | json 'd["id"]')
sent=$(call POST "/api/v1/chats/$chat/messages" '{"text":"run `echo manual-ok from $(basename $PWD)`","mode":"manual","daemon":{"labels":{"role":"builder"}}}')
chat_run=$(json 'd["run_id"]' <<<"$sent")
for _ in $(seq 1 300); do
  waiting=$(call GET "/api/v1/runs/$chat_run" | json '",".join(n.get("node_id", "") for n in d.get("nodes", []) if n["status"] == "waiting")')
  [ "$waiting" = approve_tools ] && break
  sleep 0.1
done
[ "$waiting" = approve_tools ] || fail "the manual-mode chat does not wait for approval: $(call GET "/api/v1/runs/$chat_run")"
[ -z "$(call GET "/api/v1/chats/$chat" | grep -o 'manual-ok from builder' || true)" ] \
  || fail "the tool ran before it was approved"
call POST "/api/v1/runs/$chat_run/approve" '{}' >/dev/null
for _ in $(seq 1 300); do
  [ "$(call GET "/api/v1/chats/$chat" | json 'd["status"]')" = idle ] && break
  sleep 0.1
done
messages=$(call GET "/api/v1/chats/$chat")
grep -q 'manual-ok from builder' <<<"$messages" || fail "the approved tool did not run: $messages"
echo "ok: manual mode waited, curl approved, the tool ran on the builder"
