#!/usr/bin/env bash
# Spawned sub-agents on a real monolith with the scripted model (the offline default):
#   1. a chat's agent spawns two sub-agents (`general`, each with a command to run) and stops
#      the slow one: the quick one finishes, the slow one ends cancelled, and both ends reach the
#      parent as reports ("[general] …") on later turns, after which the parent's run completes;
#   2. the same under kill -9 of the monolith (its worker with it) while both run: after the
#      restart each sub-agent still exists once, both finish, and each report arrives once;
#   3. bad input is a tool error the model reads, not a failed run: a preset outside the
#      chat's spawn_presets, and the ninth running sub-agent (the limit is 8); cancelling the
#      parent cancels the eight still running.
# Usage: spawn_monolith.sh REL_BINARY
set -euo pipefail
reliant=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/monolith_lib.sh"
monolith_setup
start_monolith


# A message asking the scripted model for these tool calls, one a turn. A sub-agent's prompt
# holds its command in backticks, written \u0060 inside the call's JSON.
message() {  # CALL...: "spawn TITLE PRESET COMMAND" or "stop TITLE"
  python3 - "$@" <<'PY'
import json, sys
q = "\\u0060"
calls = []
for call in sys.argv[1:]:
    kind, rest = call.split(" ", 1)
    if kind == "spawn":
        title, preset, command = rest.split(" ", 2)
        calls.append('`tool:spawn {"preset":"%s","title":"%s","prompt":"%s%s%s"}`'
                     % (preset, title, q, command, q))
    else:
        calls.append('`tool:spawn_stop {"agent_id":"%s"}`' % rest)
print(json.dumps({"text": " ".join(calls)}))
PY
}

new_chat() {  # SPAWN_PRESETS_JSON
  rest POST /api/v1/chats "{\"title\":\"spawn\",\"inputs\":{\"spawn_presets\":$1}}" | json 'd["id"]'
}

# The chat's run, to its end.
wait_chat_run() {  # CHAT RUN
  for _ in $(seq 1 600); do
    state=$(rest GET "/api/v1/runs/$2" | json 'd.get("status","")')
    case "$state" in completed | failed | cancelled) echo "$state"; return 0 ;; esac
    sleep 0.1
  done
  fail "run $2 did not end"
}

# The runs whose parent is RUN, as "status id" lines.
children() {  # RUN
  rest GET /api/v1/workflows/runs | python3 -c '
import json, sys
for r in json.load(sys.stdin)["runs"]:
    if r.get("parent_run_id") == sys.argv[1]:
        print(r["status"], r["id"])' "$1"
}

# The chat's main thread, one "role: text" line per message (text and tool results).
transcript() {  # CHAT
  rest GET "/api/v1/chats/$1" | python3 -c '
import json, sys
for m in json.load(sys.stdin)["messages"]:
    for b in m["content"]:
        text = b["body"].get("text", b["body"].get("content", ""))
        if text: print(m["role"] + ": " + " ".join(str(text).split()))'
}

# 1. Two sub-agents, one stopped.
chat=$(new_chat '["general"]')
run=$(rest POST "/api/v1/chats/$chat/messages" \
  "$(message "spawn slow general sleep 30" "spawn quick general echo found-it" "stop slow")" |
  json 'd["run_id"]')
[ "$(wait_chat_run "$chat" "$run")" = completed ] || fail "run $run: $(cat "$work/body")"
children "$run" >"$work/children"
[ "$(wc -l <"$work/children")" = 2 ] || fail "sub-agents: $(cat "$work/children")"
[ "$(grep -c '^completed ' "$work/children")" = 1 ] && [ "$(grep -c '^cancelled ' "$work/children")" = 1 ] ||
  fail "sub-agents should be one completed, one cancelled: $(cat "$work/children")"
transcript "$chat" >"$work/transcript"
grep -q '^user: \[general\] `echo found-it` printed: found-it$' "$work/transcript" ||
  fail "no report from the quick sub-agent: $(cat "$work/transcript")"
grep -q '^user: \[general\] agent .* was stopped' "$work/transcript" ||
  fail "no report of the stop: $(cat "$work/transcript")"
[ "$(grep -c '^tool: Started sub-agent' "$work/transcript")" = 2 ] || fail "spawn answers"
echo "spawn: two sub-agents, one stopped, one finished"

# 2. The same under kill -9 while both run.
chat=$(new_chat '["general"]')
run=$(rest POST "/api/v1/chats/$chat/messages" \
  "$(message "spawn slower general sleep 3" "spawn quick general echo found-again")" |
  json 'd["run_id"]')
for _ in $(seq 1 200); do [ "$(children "$run" | wc -l)" = 2 ] && break; sleep 0.05; done
[ "$(children "$run" | wc -l)" = 2 ] || fail "the sub-agents did not start"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
start_monolith
[ "$(wait_chat_run "$chat" "$run")" = completed ] || fail "run $run after kill -9: $(cat "$work/body")"
children "$run" >"$work/children"
[ "$(wc -l <"$work/children")" = 2 ] && [ "$(grep -c '^completed ' "$work/children")" = 2 ] ||
  fail "after kill -9, sub-agents: $(cat "$work/children")"
transcript "$chat" >"$work/transcript"
[ "$(grep -c '^user: \[general\] `echo found-again` printed: found-again$' "$work/transcript")" = 1 ] ||
  fail "the quick report, once: $(cat "$work/transcript")"
# (Its command may report that the crash left it undecided: the daemon runs a call at most once.)
[ "$(grep -c '^user: \[general\] `sleep 3` ' "$work/transcript")" = 1 ] ||
  fail "the slow report, once: $(cat "$work/transcript")"
[ "$(grep -c '^tool: Started sub-agent' "$work/transcript")" = 2 ] || fail "spawn answers after kill -9"
echo "spawn: kill -9 of the monolith lost no sub-agent and started none twice"

# 3. Bad input: a preset the chat may not spawn, then the limit.
chat=$(new_chat '["general"]')
calls=("spawn nosy researcher echo no")
for i in 1 2 3 4 5 6 7 8 9; do calls+=("spawn s$i general sleep 60"); done
run=$(rest POST "/api/v1/chats/$chat/messages" "$(message "${calls[@]}")" | json 'd["run_id"]')
for _ in $(seq 1 300); do
  transcript "$chat" >"$work/transcript"
  grep -q 'spawn limit reached' "$work/transcript" && break
  sleep 0.1
done
grep -q '^tool: preset "researcher" is not one this agent may spawn (spawn_presets: general)$' \
  "$work/transcript" || fail "a preset outside spawn_presets: $(cat "$work/transcript")"
grep -q '^tool: spawn limit reached: 8 sub-agents of this agent are running (at most 8)' \
  "$work/transcript" || fail "the ninth sub-agent: $(cat "$work/transcript")"
[ "$(children "$run" | grep -c '^running ')" = 8 ] || fail "running: $(children "$run")"
rest POST "/api/v1/chats/$chat/cancel" >/dev/null
[ "$(wait_chat_run "$chat" "$run")" = cancelled ] || fail "the parent was not cancelled"
# (Counted, not grep -q: under pipefail a grep that stops reading fails its writer.)
for _ in $(seq 1 100); do [ "$(children "$run" | grep -c '^running ')" = 0 ] && break; sleep 0.1; done
[ "$(children "$run" | grep -c '^cancelled ')" = 8 ] || fail "with their parent: $(children "$run")"
echo "spawn_monolith: ok"
