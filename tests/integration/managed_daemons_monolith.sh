#!/usr/bin/env bash
# Managed daemons on the monolith, whose control plane and gateway are embedded: a managed
# daemon created with the CLI runs as a process of its own, dialled by the monolith. The spec's
# two-place workflow runs its local node on the embedded daemon and its cloud node's child run on
# the managed one (the stored tool results' daemon ids say so). Idle past --suspend-after, the
# daemon is suspended; a chat that selects `cloud` resumes it and its tool runs once. Killed with
# SIGKILL, it is started again; after a restart of the monolith it serves at once. Refused with
# a clear error: AWS (before any provider is called), Kubernetes (not on a monolith), a duplicate
# name, suspending the embedded daemon, a daemon nobody has. A daemon with commands runs a tool,
# reloads and restarts when told (commands_round_trip). Deleting it removes its process, rows and
# folder.
#   managed_daemons_monolith.sh RELIANT_BINARY
set -euo pipefail
reliant=$(realpath "$1")
source "$(dirname "$0")/monolith_lib.sh"
source "$(dirname "$0")/managed_lib.sh"
monolith_setup
# The daemons live in sessions of their own: a failed run must not leave them behind.
trap 'for f in "$data"/managed/*/daemon.pid; do [ -f "$f" ] && kill -9 -- "-$(cat "$f")" 2>/dev/null; done
      monolith_cleanup' EXIT
daemon_port=$(free_port_block 1)
monolith_args=(--daemon-port "$daemon_port" --control-plane-interval 0.5 --suspend-after 8)
start_monolith
cli() { "$reliant" "$@" --server "$api" --token "$token"; }
rest() {  # PATH
  curl -sf -H "Authorization: Bearer $token" "$api$1"
}
embedded=$(embedded_daemon_id "$token")

cli daemon create cloud-box --permissions execution --label pool=cloud >"$work/create.out" ||
  fail "create: $(cat "$work/create.out")"
daemon_id=$(awk '{print $1; exit}' "$work/create.out")
shown_status() {  # as the API shows it
  rest "/api/v1/daemons/$daemon_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemon"]["status"])'
}
wait_status active 20
folder="$data/managed/$daemon_id"
[ -d "$folder/workspace" ] || fail "no folder of its own"
daemon_pid=$(cat "$folder/daemon.pid")
grep -q "daemons dial in on 127.0.0.1:$daemon_port" "$work/monolith.log" ||
  fail "the daemon port is not announced"
echo "created, it runs as a process of its own and the monolith dialled it"

# The spec's two-place workflow, stored in a project and run in a chat.
project=$(rest_post "/api/v1/projects" '{"name":"places"}' | json_field id)
store_two_places "$project"
cli chat --project "$project" --workflow two-places '`pwd`' >"$work/places.out" 2>&1 ||
  fail "the two-place chat: $(cat "$work/places.out")"
chat=$(sed -n 's/^chat \([^ ]*\) · run .*/\1/p' "$work/places.out")
check_two_places "$chat" "$embedded" "$daemon_id" "$work/ws" "$folder/workspace"
echo "the two-place workflow: its local node ran on the embedded daemon, its cloud node on $daemon_id"

wait_status suspended 30
kill -0 "$daemon_pid" 2>/dev/null && fail "suspended, but its process $daemon_pid still runs"
echo "idle, it was suspended"

chat_wakes_it_once "$folder"

kill_and_see_it_restarted "$folder"
echo "killed with SIGKILL, it was started again (pid $first_pid → $daemon_pid)"
strangers_refused "$folder"

# A restarted monolith adopts the running daemon and dials it at once (not when the lease its
# predecessor's gateway held runs out, 30 s and more).
stop_monolith
kill -0 "$(cat "$folder/daemon.pid")" 2>/dev/null || fail "the daemon did not outlive the monolith"
start_monolith
wait_status active 10
timeout 15 "$reliant" chat --server "$api" --token "$token" --daemon cloud-box '`pwd`' \
  >"$work/again.out" 2>&1 ||
  fail "a chat after the restart: $(cat "$work/again.out")"
grep -qF "$folder/workspace" "$work/again.out" || fail "after the restart: $(cat "$work/again.out")"
cp "$folder/daemon.pid" "$work/adopted.pid"
echo "the restarted monolith adopted the daemon (pid $(cat "$work/adopted.pid")) and reached it"

refused() {  # WHAT EXPECTED ARGS...
  local what=$1 expected=$2
  shift 2
  if cli daemon "$@" >"$work/refused.out" 2>&1; then fail "$what was accepted"; fi
  grep -qF "$expected" "$work/refused.out" || fail "$what: $(cat "$work/refused.out")"
}
refused "aws" "platform aws is not supported yet (no provider was called)" \
  create far-box --platform aws --permissions execution
refused "kubernetes" "platform kubernetes is not configured" \
  create pod-box --platform kubernetes --permissions execution
refused "a duplicate name" "cloud-box" create cloud-box --permissions execution
refused "suspending the embedded daemon" "only managed daemons can be suspended" suspend "$embedded"
refused "an unknown daemon" "no daemon nosuch" suspend nosuch
echo "refused: aws, kubernetes, a duplicate name, the embedded daemon, an unknown daemon"

commands_round_trip "$data/managed" cloud-box

cli daemon delete cloud-box >/dev/null || fail "delete"
for _ in $(seq 1 100); do
  rest "/api/v1/daemons/$daemon_id" >/dev/null 2>&1 || { [ ! -d "$folder" ] && break; }
  sleep 0.1
done
rest "/api/v1/daemons/$daemon_id" >/dev/null 2>&1 && fail "its rows outlived the delete"
[ ! -d "$folder" ] || fail "its folder outlived the delete"
# Adopted, it is not the monolith's child: it is gone once it is no process or a zombie that
# init has yet to reap.
daemon_pid=$(cat "$work/adopted.pid")
running() { [ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
running "$daemon_pid" && fail "its process $daemon_pid outlived the delete"
echo "deleted: its process, rows and folder are gone"
