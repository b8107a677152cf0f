#!/usr/bin/env bash
# Managed daemons on the distributed topology, real processes on loopback: Postgres and
# nats-server (the fixtures), a gateway, a worker and an api, and the control plane with its
# local provisioner. A user creates a managed daemon with the CLI; the control plane starts it as
# a process of its own, the gateway dials it, and a tool call runs in its workspace. Killed with
# SIGKILL, it is started again. Idle past --suspend-after, it is suspended (its process gone,
# `suspended` in the store and the API); a tool call for it resumes it and runs once. Suspended
# and resumed by its user, it serves again. AWS is refused before any provider is called;
# deleting it removes its process, rows and folder.
#   managed_daemons_distributed.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
integration_setup managed
# The daemons live in sessions of their own: a failed run must not leave them behind.
trap 'for f in "$work"/managed/*/daemon.pid; do [ -f "$f" ] && kill -9 -- "-$(cat "$f")" 2>/dev/null; done
      integration_cleanup' EXIT
"$reliant" admin user create --email dev@example.com --db-url "$url" >/dev/null
token=$("$reliant" admin token create --user dev@example.com --name cli --db-url "$url" | tail -n 1)

base=$(free_port_block 24)
start_gateway ga "$base" --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
start_servers "$base" 1
api="http://127.0.0.1:$((base + 12))"
"$reliant" server controlplane --db-url "$url" --nats-url "$nats_url" --replica-id cp1 \
  --health-port $((base + 3)) --bind-address 127.0.0.1 --daemons-dir "$work/managed" \
  --interval 0.5 --suspend-after 8 >"$work/controlplane.log" 2>&1 &
pids+=($!)
wait_ready $((base + 3)) "control plane"
cli() { "$reliant" daemon "$@" --server "$api" --token "$token"; }

cli create cloud-box --permissions execution --label pool=cloud >"$work/create.out" ||
  fail "create: $(cat "$work/create.out")"
daemon_id=$(awk '{print $1; exit}' "$work/create.out")
shown_status() {  # as the API shows it: suspended is the control plane's, the rest the gateway's
  q "SELECT CASE WHEN d.status = 'disconnected' AND m.observed_state = 'suspended'
     THEN 'suspended' ELSE d.status END FROM daemons d JOIN managed_daemons m ON m.id = d.id
     WHERE d.id = '$daemon_id'"
}
wait_status() {  # STATUS SECONDS
  for _ in $(seq 1 $(($2 * 10))); do
    [ "$(shown_status)" = "$1" ] && return 0
    sleep 0.1
  done
  fail "daemon $daemon_id is $(shown_status), not $1"
}
wait_status active 20
folder="$work/managed/$daemon_id"
[ -d "$folder/workspace" ] || fail "no folder of its own"
call_tool() {
  "$reliant" tool call --nats-url "$nats_url" --db-url "$url" --user dev@example.com \
    --daemon cloud-box --tool bash --input '{"command":"pwd"}' --sync --timeout 20 2>"$work/tool.err"
}
call_tool >"$work/tool.out" || fail "tool call: $(cat "$work/tool.out" "$work/tool.err")"
grep -qF "$folder/workspace" "$work/tool.out" || fail "the tool ran elsewhere: $(cat "$work/tool.out")"
echo "a tool call ran in the managed daemon's workspace"

first_pid=$(cat "$folder/daemon.pid")
kill -9 "$first_pid"
for _ in $(seq 1 150); do
  pid=$(cat "$folder/daemon.pid" 2>/dev/null || echo "$first_pid")
  [ "$pid" != "$first_pid" ] && kill -0 "$pid" 2>/dev/null && break
  sleep 0.1
done
[ "$pid" != "$first_pid" ] || fail "the killed daemon was not started again"
wait_status active 20
call_tool >"$work/tool.out" || fail "tool call after the restart: $(cat "$work/tool.out" "$work/tool.err")"
echo "killed with SIGKILL, it was started again (pid $first_pid → $pid) and serves"

wait_status suspended 30
kill -0 "$pid" 2>/dev/null && fail "suspended, but its process $pid still runs"
cli list >"$work/list.out"
grep -F "$daemon_id" "$work/list.out" | grep -qF "suspended" || fail "the list: $(cat "$work/list.out")"
echo "idle, it was suspended: $(grep -F "$daemon_id" "$work/list.out")"

# A call for it resumes it (durably: the request waits in the store until it connects), and
# runs once.
"$reliant" tool call --nats-url "$nats_url" --db-url "$url" --user dev@example.com \
  --daemon cloud-box --tool bash --input '{"command":"echo woken >> woken.txt; pwd"}' \
  --timeout 30 >"$work/tool.out" 2>"$work/tool.err" ||
  fail "a call to the suspended daemon: $(cat "$work/tool.out" "$work/tool.err")"
grep -qF "$folder/workspace" "$work/tool.out" || fail "the woken call: $(cat "$work/tool.out")"
[ "$(cat "$folder/workspace/woken.txt")" = woken ] || fail "the call ran $(wc -l <"$folder/workspace/woken.txt") times"
wait_status active 5
echo "a call to it resumed it and ran once"

cli suspend cloud-box >/dev/null || fail "suspend"
wait_status suspended 20
cli resume cloud-box >/dev/null || fail "resume"
wait_status active 20
call_tool >"$work/tool.out" || fail "tool call after the resume: $(cat "$work/tool.out" "$work/tool.err")"
echo "suspended and resumed by its user, it serves again"

if cli create far-box --platform aws --permissions execution >"$work/aws.out" 2>&1; then
  fail "aws was accepted"
fi
grep -qF "platform aws is not supported yet (no provider was called)" "$work/aws.out" ||
  fail "aws: $(cat "$work/aws.out")"
if cli suspend nosuch >"$work/nosuch.out" 2>&1; then fail "an unknown daemon was suspended"; fi

cli delete cloud-box >/dev/null || fail "delete"
for _ in $(seq 1 100); do
  [ "$(q "SELECT COUNT(*) FROM daemons WHERE id = '$daemon_id'")" = 0 ] && [ ! -d "$folder" ] && break
  sleep 0.1
done
[ "$(q "SELECT COUNT(*) FROM daemons WHERE id = '$daemon_id'")" = 0 ] || fail "its rows outlived the delete"
[ ! -d "$folder" ] || fail "its folder outlived the delete"
echo "deleted: its rows and folder are gone"
