#!/usr/bin/env bash
# Managed daemons on the distributed topology, real processes on loopback: Postgres and
# nats-server (the fixtures), a gateway, a worker and an api, and the control plane with its
# local provisioner. A user creates a managed daemon with the CLI; the control plane starts it as
# a process of its own, the gateway dials it, and a tool call runs in its workspace. The spec's
# two-place workflow runs its local node on the user's laptop daemon and its cloud node's child
# run on the managed one (the stored tool results' daemon ids say so). Killed with SIGKILL, it
# is started again. Idle past --suspend-after, it is suspended (its process gone, `suspended` in
# the store and the API); a chat that selects `cloud` resumes it and its command runs once.
# Suspended and resumed by its user, it serves again. AWS is refused before any provider is
# called; deleting it removes its process, rows and folder.
#   managed_daemons_distributed.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/managed_lib.sh"
integration_setup managed
# The daemons live in sessions of their own: a failed run must not leave them behind.
trap 'for f in "$work"/managed/*/daemon.pid; do [ -f "$f" ] && kill -9 -- "-$(cat "$f")" 2>/dev/null; done
      integration_cleanup' EXIT
"$reliant" admin user create --email dev@example.com --db-url "$url" >/dev/null
token=$("$reliant" admin token create --user dev@example.com --name cli --db-url "$url" | tail -n 1)

base=$(free_port_block 24)
start_gateway ga "$base" --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
# One user: local daemons, which run as the control plane's OS user, are allowed (an api refuses
# them unless told: managed_daemons_kubernetes.sh checks that).
api_flags=(--managed-platforms local,kubernetes)
start_servers "$base" 1
api="http://127.0.0.1:$((base + 12))"
# The store's URL in the environment, as Kubernetes gives it: the control plane's local daemons run
# as its OS user, so once read it must be gone from what /proc shows of the process.
DATABASE_URL="$url" "$reliant" server controlplane --nats-url "$nats_url" --replica-id cp1 \
  --health-port $((base + 3)) --bind-address 127.0.0.1 --daemons-dir "$work/managed" \
  --interval 0.5 --suspend-after 8 --commands-url "$api" >"$work/controlplane.log" 2>&1 &
pids+=($!)
control_plane_pid=$!
wait_ready $((base + 3)) "control plane"
if tr '\0' '\n' <"/proc/$control_plane_pid/environ" | grep -qF -- "$url"; then
  fail "the control plane's environment still shows DATABASE_URL"
fi
cli() { "$reliant" daemon "$@" --server "$api" --token "$token"; }

cli create cloud-box --permissions execution --label pool=cloud >"$work/create.out" ||
  fail "create: $(cat "$work/create.out")"
daemon_id=$(awk '{print $1; exit}' "$work/create.out")
shown_status() {  # as the API shows it: suspended is the control plane's, the rest the gateway's
  q "SELECT CASE WHEN d.status = 'disconnected' AND m.observed_state = 'suspended'
     THEN 'suspended' ELSE d.status END FROM daemons d JOIN managed_daemons m ON m.id = d.id
     WHERE d.id = '$daemon_id'"
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

# The spec's two-place workflow, stored in a project and run in a chat, with the user's laptop
# as the local daemon.
start_daemon laptop "$token" "$base"
for _ in $(seq 1 100); do
  laptop=$(q "SELECT id FROM daemons WHERE name = 'laptop' AND status = 'active'")
  [ -n "$laptop" ] && break
  sleep 0.1
done
[ -n "$laptop" ] || fail "the laptop daemon did not connect"
project=$(rest_post "/api/v1/projects" '{"name":"places"}' | json_field id)
store_two_places "$project"
"$reliant" chat --server "$api" --token "$token" --project "$project" --workflow two-places \
  '`pwd`' >"$work/places.out" 2>&1 || fail "the two-place chat: $(cat "$work/places.out")"
chat=$(sed -n 's/^chat \([^ ]*\) · run .*/\1/p' "$work/places.out")
check_two_places "$chat" "$laptop" "$daemon_id" "$work/laptop" "$folder/workspace"
echo "the two-place workflow: its local node ran on the laptop, its cloud node on $daemon_id"

kill_and_see_it_restarted "$folder"
call_tool >"$work/tool.out" || fail "tool call after the restart: $(cat "$work/tool.out" "$work/tool.err")"
echo "killed with SIGKILL, it was started again (pid $first_pid → $daemon_pid) and serves"
strangers_refused "$folder"

wait_status suspended 30
kill -0 "$daemon_pid" 2>/dev/null && fail "suspended, but its process $daemon_pid still runs"
cli list >"$work/list.out"
grep -F "$daemon_id" "$work/list.out" | grep -qF "suspended" || fail "the list: $(cat "$work/list.out")"
echo "idle, it was suspended: $(grep -F "$daemon_id" "$work/list.out")"

chat_wakes_it_once "$folder"

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

commands_round_trip "$work/managed" cloud-box

cli delete cloud-box >/dev/null || fail "delete"
for _ in $(seq 1 100); do
  [ "$(q "SELECT COUNT(*) FROM daemons WHERE id = '$daemon_id'")" = 0 ] && [ ! -d "$folder" ] && break
  sleep 0.1
done
[ "$(q "SELECT COUNT(*) FROM daemons WHERE id = '$daemon_id'")" = 0 ] || fail "its rows outlived the delete"
[ ! -d "$folder" ] || fail "its folder outlived the delete"
echo "deleted: its rows and folder are gone"
