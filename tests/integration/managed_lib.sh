# Shared by the managed daemons' integration tests (sourced): REST helpers; the spec's
# two-place workflow (spec S0.13) — the workflow on the user's local daemon, its `cloud_work`
# node an agent on a cloud daemon — stored in a project, and the check of where its tools ran;
# a chat that wakes a suspended daemon; a killed daemon's restart. The caller sets `reliant`,
# `api`, `token`, `work` and `daemon_id`, and has `fail` and `shown_status` (the managed
# daemon's status as the API shows it).

# Waits up to SECONDS for the managed daemon to show STATUS.
wait_status() {  # STATUS SECONDS
  for _ in $(seq 1 $(($2 * 10))); do
    [ "$(shown_status)" = "$1" ] && return 0
    sleep 0.1
  done
  fail "daemon $daemon_id is $(shown_status), not $1"
}

rest_post() {  # PATH JSON
  curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$2" "$api$1"
}

json_field() {  # FIELD: of the JSON object on stdin
  python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# Stores the two-place workflow in PROJECT as `two-places`.
store_two_places() {  # PROJECT
  cat >"$work/two-places.yaml" <<'YAML'
name: two-places
daemon: local
nodes:
  local_work:
    agent: {system_prompt: Handle the local files}
  cloud_work:
    daemon: cloud
    thread: {mode: inherit, inject: {role: user, content: "`pwd`"}}
    agent: {system_prompt: Do the heavy lifting}
YAML
  python3 -c 'import json,sys; print(json.dumps({"source": open(sys.argv[1]).read()}))' \
    "$work/two-places.yaml" >"$work/two-places.json"
  local code
  code=$(curl -s -o "$work/two-places.out" -w '%{http_code}' -H "Authorization: Bearer $token" \
    --data-binary @"$work/two-places.json" "$api/api/v1/projects/$1/workflows")
  [ "$code" = 201 ] || fail "storing two-places: HTTP $code $(cat "$work/two-places.out")"
}

# Checks the chat CHAT that ran two-places with the message `pwd`: its stored tool results
# ran on LOCAL_ID in LOCAL_DIR (the local_work agent) and on CLOUD_ID in CLOUD_DIR (the
# cloud_work agent's child run), once each, and nowhere else.
check_two_places() {  # CHAT LOCAL_ID CLOUD_ID LOCAL_DIR CLOUD_DIR
  curl -sf -H "Authorization: Bearer $token" "$api/api/v1/chats/$1?limit=200" >"$work/places.json" ||
    fail "chat $1 unreadable"
  python3 - "$work/places.json" "$2" "$3" "$4" "$5" <<'PY' || fail "where two-places ran: $(cat "$work/places.json")"
import json, sys
chat, local_id, cloud_id, local_dir, cloud_dir = sys.argv[1:]
results = [block["body"] for m in json.load(open(chat))["messages"] for block in m["content"]
           if block["kind"] == "tool_result"]
where = [(r.get("daemon_id", ""), r.get("content", "")) for r in results]
expected = [(local_id, local_dir), (cloud_id, cloud_dir)]
unmatched = [e for e in expected if not any(d == e[0] and e[1] in c for d, c in where)]
if len(where) != 2 or unmatched:
    sys.exit(f"tool results {where}, expected one on each of {expected}")
PY
}

# A chat that selects `cloud` resumes the suspended managed daemon whose folder is FOLDER
# (durably: its call waits in the store until the daemon connects); its command runs once.
chat_wakes_it_once() {  # FOLDER
  "$reliant" chat --server "$api" --token "$token" --daemon cloud \
    '`echo woken >> woken.txt; pwd`' >"$work/woken.out" 2>&1 ||
    fail "a chat for the suspended daemon: $(cat "$work/woken.out")"
  grep -qF "$1/workspace" "$work/woken.out" || fail "the woken chat: $(cat "$work/woken.out")"
  [ "$(cat "$1/workspace/woken.txt")" = woken ] ||
    fail "the call ran $(wc -l <"$1/workspace/woken.txt") times"
  wait_status active 5
  echo "a chat that selects cloud resumed it and its command ran once"
}

# Kills the managed daemon whose folder is FOLDER with SIGKILL and waits until its control plane
# started it again; its new pid is $daemon_pid, the killed one's $first_pid.
kill_and_see_it_restarted() {  # FOLDER
  first_pid=$(cat "$1/daemon.pid")
  kill -9 "$first_pid"
  for _ in $(seq 1 150); do
    daemon_pid=$(cat "$1/daemon.pid" 2>/dev/null || echo "$first_pid")
    [ "$daemon_pid" != "$first_pid" ] && kill -0 "$daemon_pid" 2>/dev/null && break
    sleep 0.1
  done
  [ "$daemon_pid" != "$first_pid" ] || fail "the killed daemon was not started again"
  wait_status active 20
}

# Strangers who reach the port of the managed daemon whose folder is FOLDER (grpc-js, as any
# process on this machine could): with no dial key, a made-up one, or a well-formed wrong one,
# the daemon sends them nothing and closes, logs the refusal, and stays connected to its gateway.
strangers_refused() {  # FOLDER
  local port proto interop
  port=$(cat "$1/daemon.port")
  proto=$(dirname "${BASH_SOURCE[0]}")/../../proto/reliant/daemon/v1/daemon.proto
  interop=$(dirname "${BASH_SOURCE[0]}")/../interop
  for key in "" "not-a-dial-key" "RzE5u0x5iWq1yT8mC3vQ2bN7kL4pA6sD9fG0hJ1kLmN"; do
    local shown=()
    [ -n "$key" ] && shown=("$key")
    timeout 20 node "$interop/grpc_stranger.mjs" "$proto" "127.0.0.1:$port" "${shown[@]}" \
      >"$work/stranger.out" 2>&1 || fail "a stranger with key '$key': $(cat "$work/stranger.out")"
  done
  grep -q "refused a stream from .* without this daemon's dial key" "$1/daemon.log" ||
    fail "the refusals were not logged: $(tail -5 "$1/daemon.log")"
  wait_status active 5
  echo "strangers with no dial key, a made-up one and a well-formed wrong one were refused"
}

# The Commands protocol with a managed daemon `cmd-box` created with --commands (its folders in
# MANAGED_DIR) and a link to a project: run_tool runs a command in its workspace once and reads
# a file of the linked project's folder, reload answers, restart replaces its process (the same
# pid) which then runs commands again; the daemon PLAIN, created without commands, and an unknown
# command are refused, saying why.
commands_round_trip() {  # MANAGED_DIR PLAIN
  local send=("$reliant" daemon command send --server "$api" --token "$token")
  mkdir -p "$work/linked" && echo "linked notes" >"$work/linked/notes.txt"
  local project
  project=$(rest_post "/api/v1/projects" "{\"name\":\"linked\",\"path\":\"$work/linked\"}" |
    json_field id) || fail "the linked project"
  "$reliant" daemon create cmd-box --commands --always-on --permissions execution \
    --link "$project" --server "$api" --token "$token" >"$work/cmd-create.out" ||
    fail "create cmd-box: $(cat "$work/cmd-create.out")"
  local id folder
  id=$(awk '{print $1; exit}' "$work/cmd-create.out")
  folder="$1/$id"
  for _ in $(seq 1 200); do
    [ -f "$folder/daemon.pid" ] && grep -q "commands enabled: polling" "$folder/daemon.log" \
      2>/dev/null && break
    sleep 0.1
  done
  "${send[@]}" cmd-box run_tool \
    --args '{"tool":"bash","input":{"command":"echo ran >> once.txt; pwd"}}' --wait 30 \
    >"$work/cmd-tool.out" 2>&1 || fail "run_tool: $(cat "$work/cmd-tool.out")"
  grep -qF "$folder/workspace" "$work/cmd-tool.out" || fail "run_tool: $(cat "$work/cmd-tool.out")"
  [ "$(cat "$folder/workspace/once.txt")" = ran ] ||
    fail "run_tool ran $(wc -l <"$folder/workspace/once.txt") times"
  "${send[@]}" cmd-box run_tool \
    --args "{\"tool\":\"view\",\"input\":{\"file_path\":\"$work/linked/notes.txt\"}}" \
    >"$work/cmd-view.out" 2>&1 || fail "view in the linked project: $(cat "$work/cmd-view.out")"
  grep -qF "linked notes" "$work/cmd-view.out" || fail "the linked file: $(cat "$work/cmd-view.out")"
  "${send[@]}" cmd-box reload >"$work/cmd-reload.out" 2>&1 ||
    fail "reload: $(cat "$work/cmd-reload.out")"
  grep -q "reload  succeeded" "$work/cmd-reload.out" || fail "reload: $(cat "$work/cmd-reload.out")"
  local before
  before=$(cat "$folder/daemon.pid")
  "${send[@]}" cmd-box restart >"$work/cmd-restart.out" 2>&1 ||
    fail "restart: $(cat "$work/cmd-restart.out")"
  for _ in $(seq 1 100); do
    [ "$(grep -c "commands enabled: polling" "$folder/daemon.log")" -ge 2 ] && break
    sleep 0.1
  done
  [ "$(grep -c "restarting (a restart command)" "$folder/daemon.log")" = 1 ] ||
    fail "the daemon did not restart once: $(cat "$folder/daemon.log")"
  [ "$(cat "$folder/daemon.pid")" = "$before" ] && kill -0 "$before" ||
    fail "restart replaced the process with another one ($before → $(cat "$folder/daemon.pid"))"
  "${send[@]}" cmd-box run_tool --args '{"tool":"bash","input":{"command":"cat once.txt"}}' \
    --wait 30 >"$work/cmd-after.out" 2>&1 || fail "after the restart: $(cat "$work/cmd-after.out")"
  grep -q '"content": "ran\\n"' "$work/cmd-after.out" ||
    fail "after the restart: $(cat "$work/cmd-after.out")"
  "$reliant" daemon command list cmd-box --server "$api" --token "$token" >"$work/cmd-list.out"
  [ "$(grep -c "  succeeded" "$work/cmd-list.out")" = 5 ] ||
    fail "the command list: $(cat "$work/cmd-list.out")"
  if "${send[@]}" "$2" reload >"$work/cmd-refused.out" 2>&1; then fail "$2 took a command"; fi
  grep -qF "does not take commands" "$work/cmd-refused.out" ||
    fail "$2: $(cat "$work/cmd-refused.out")"
  if "${send[@]}" cmd-box explode >"$work/cmd-refused.out" 2>&1; then fail "explode was sent"; fi
  grep -qF 'unknown command "explode" (reload, restart, run_tool)' "$work/cmd-refused.out" ||
    fail "explode: $(cat "$work/cmd-refused.out")"
  # Suspended, it is woken by a command, which then runs.
  "$reliant" daemon suspend cmd-box --server "$api" --token "$token" >/dev/null ||
    fail "suspend cmd-box"
  for _ in $(seq 1 200); do
    kill -0 "$before" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$before" 2>/dev/null && fail "suspended, cmd-box still runs"
  "${send[@]}" cmd-box run_tool --args '{"tool":"bash","input":{"command":"echo woke"}}' \
    --wait 60 >"$work/cmd-woke.out" 2>&1 || fail "a command for the suspended cmd-box: $(cat "$work/cmd-woke.out")"
  grep -q '"content": "woke\\n"' "$work/cmd-woke.out" || fail "woken: $(cat "$work/cmd-woke.out")"
  echo "commands: run_tool ran once and read the linked project, reload answered, restart replaced the process (pid $before), a command woke it suspended"
}
