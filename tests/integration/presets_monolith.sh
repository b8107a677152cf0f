#!/usr/bin/env bash
# Presets on a real monolith whose model is a stand-in Anthropic provider
# (fake_llm_provider.py, which writes down every request it gets):
#   - `reliant preset validate` refuses a malformed preset at file:line:column (exit 1), and the
#     API refuses to store it with the same diagnostics;
#   - `reliant preset create` stores a preset; `preset list` shows it beside the built-ins;
#   - a workflow whose agent node (builtin://agent) names that preset runs, and the request the
#     provider received carries the preset's system prompt and only the tools its filter lets
#     through;
#   - a chat created with the built-in preset `researcher` asks with researcher's prompt and
#     read-only tools; a chat with no preset gets the agent's default, `general`; `reliant chat
#     --preset planner` asks as the planner;
#   - bad input is a clear error: an unknown preset at a run's start (400), an unknown preset
#     in a node (the run fails naming it), a malformed tool filter in a workflow (400 at its
#     line and column);
#   - `preset delete` removes it, and a second delete is refused.
# Usage: presets_monolith.sh REL_BINARY
set -euo pipefail
reliant=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/monolith_lib.sh"
monolith_setup

start_fake_provider
printf 'sk-ant-test-key\n' >"$work/key"
monolith_args=(--llm-provider anthropic --llm-base-url "$provider_url"
  --llm-api-key-file "$work/key" --model claude-test)
start_monolith


# A run to its end: its status, then its error (when it failed).
wait_run() {  # RUN_ID
  for _ in $(seq 1 300); do
    state=$(rest GET "/api/v1/runs/$1" | json 'd.get("status","")')
    case "$state" in completed | failed | cancelled) echo "$state"; return 0 ;; esac
    sleep 0.1
  done
  fail "run $1 did not end"
}

# 1. A malformed preset: refused offline and by the API, at its line and column.
mkdir -p "$work/presets"
cat >"$work/presets/broken.yaml" <<'EOF'
name: broken
tag: agent
params:
  temperature: 9
  tools: [view, "!"]
EOF
code=0
out=$("$reliant" preset validate "$work/presets/broken.yaml" 2>&1) || code=$?
[ "$code" = 1 ] || fail "preset validate exited $code for a broken preset: $out"
echo "$out" | grep -q "broken.yaml:4:16: params.temperature 9 is outside 0 to 2" ||
  fail "no line and column for the temperature: $out"
echo "$out" | grep -q 'broken.yaml:5:10: params.tools: entry 1: "!" excludes nothing' ||
  fail "no line and column for the filter: $out"
body=$(python3 -c 'import json,sys; print(json.dumps({"source": open(sys.argv[1]).read()}))' \
  "$work/presets/broken.yaml")
rest POST /api/v1/presets "$body" >"$work/refused.json"
[ "$(status)" = 400 ] || fail "the API stored a broken preset ($(status))"
[ "$(json 'len(d["diagnostics"])' <"$work/refused.json")" = 2 ] || fail "diagnostics: $(cat "$work/refused.json")"
rm "$work/presets/broken.yaml"

# 2. A preset of the user's, stored with the CLI.
cat >"$work/presets/auditor.yaml" <<'EOF'
name: auditor
description: Reads and searches, never changes or runs anything
tag: agent
params:
  system_prompt: You are the AUDITOR-7 preset. Read, never write.
  tools: [tag:search, view, "!grep"]
  temperature: 0.25
EOF
"$reliant" preset create --server "$api" --token "$token" "$work/presets" >"$work/create.out" 2>&1 ||
  fail "preset create: $(cat "$work/create.out")"
grep -q 'stored preset "auditor" (user)' "$work/create.out" || fail "create said: $(cat "$work/create.out")"
"$reliant" preset list --server "$api" --token "$token" >"$work/list.out" 2>&1 || fail "preset list"
grep -Eq '^auditor +user +agent' "$work/list.out" || fail "list: $(cat "$work/list.out")"
grep -Eq '^researcher +builtin +agent' "$work/list.out" || fail "list: $(cat "$work/list.out")"
[ "$(grep -c builtin "$work/list.out")" -ge 17 ] || fail "fewer than 17 built-ins listed"

# 3. A workflow whose agent node uses it: the provider saw its prompt and filtered tools.
source_yaml=$(cat <<'EOF'
name: audit
entry: audit
nodes:
  - id: audit
    type: workflow
    ref: builtin://agent
    presets:
      default: auditor
    thread:
      mode: new
      inject: {role: user, content: "Audit the repository."}
EOF
)
body=$(python3 -c 'import json,sys; print(json.dumps({"source": sys.argv[1]}))' "$source_yaml")
run=$(rest POST /api/v1/workflows/runs "$body" | json 'd["run_id"]')
[ "$(status)" = 201 ] || fail "the run did not start: $(cat "$work/body")"
[ "$(wait_run "$run")" = completed ] || fail "run $run: $(cat "$work/body")"
python3 - "$work/provider.log" <<'PY' || fail "the provider's request did not carry the preset"
import json, sys
requests = [json.loads(line) for line in open(sys.argv[1])]
mine = [r for r in requests if "AUDITOR-7" in json.dumps(r["body"].get("system", ""))]
assert len(mine) == 1, f"{len(mine)} requests with the preset's prompt of {len(requests)}"
body = mine[0]["body"]
tools = sorted(t["name"] for t in body.get("tools", []))
assert tools == ["glob", "view"], tools  # tag:search and view, without grep
assert body.get("temperature") == 0.25, body.get("temperature")
PY

# 4. Chats: a built-in preset picked at creation, and the agent's default (general).
chat=$(rest POST /api/v1/chats '{"title":"r","presets":"researcher"}' | json 'd["id"]')
[ "$(status)" = 201 ] || fail "chat: $(cat "$work/body")"
rest POST "/api/v1/chats/$chat/messages" '{"text":"look around"}' >/dev/null
plain=$(rest POST /api/v1/chats '{"title":"g"}' | json 'd["id"]')
rest POST "/api/v1/chats/$plain/messages" '{"text":"hello"}' >/dev/null
for _ in $(seq 1 100); do [ "$(wc -l <"$work/provider.log")" -ge 3 ] && break; sleep 0.1; done
python3 - "$work/provider.log" <<'PY' || fail "the chats did not ask with their presets"
import json, sys
requests = [json.loads(line)["body"] for line in open(sys.argv[1])]
def asked(text):
    return [r for r in requests if any(text in json.dumps(m) for m in r["messages"])]
(researcher,) = asked("look around")
assert "never change" in researcher["system"].lower() or "investigate" in researcher["system"], researcher["system"][:200]
names = {t["name"] for t in researcher["tools"]}
assert {"view", "glob", "grep"} <= names and not names & {"bash", "write", "edit"}, names
(general,) = asked("hello")
assert "delegate" in general["system"].lower(), general["system"][:200]
assert {"bash", "write", "edit", "view"} <= {t["name"] for t in general["tools"]}
PY

# The CLI picks one too, and refuses one that does not exist.
"$reliant" chat --server "$api" --token "$token" --preset planner --quiet "plan the move" \
  >"$work/chat.out" 2>&1 || fail "reliant chat --preset: $(cat "$work/chat.out")"
python3 - "$work/provider.log" <<'PY' || fail "reliant chat --preset planner did not ask as the planner"
import json, sys
requests = [json.loads(line)["body"] for line in open(sys.argv[1])]
(planner,) = [r for r in requests if "plan the move" in json.dumps(r["messages"])]
assert "implementation plans" in planner["system"], planner["system"][:200]
PY
code=0
"$reliant" chat --server "$api" --token "$token" --preset nobody "hi" >"$work/chat.out" 2>&1 || code=$?
[ "$code" = 1 ] && grep -q 'no preset' "$work/chat.out" || fail "chat --preset nobody: $code $(cat "$work/chat.out")"

# 5. Bad input.
rest POST /api/v1/workflows/runs '{"workflow":"builtin://agent","presets":"nobody"}' >/dev/null
[ "$(status)" = 400 ] && grep -q 'no preset \\"nobody\\"' "$work/body" ||
  fail "an unknown preset at a run's start: $(status) $(cat "$work/body")"
rest POST /api/v1/chats '{"presets":{"default":"ghost"}}' >/dev/null
[ "$(status)" = 400 ] || fail "a chat with an unknown preset: $(status)"
body=$(python3 -c 'import json,sys; print(json.dumps({"source": sys.argv[1].replace("auditor", "ghost")}))' "$source_yaml")
run=$(rest POST /api/v1/workflows/runs "$body" | json 'd["run_id"]')
[ "$(wait_run "$run")" = failed ] || fail "a node with an unknown preset did not fail"
rest GET "/api/v1/runs/$run" | grep -q 'no preset' || fail "its error: $(cat "$work/body")"
bad=$'name: bad\nentry: a\nnodes:\n  - id: a\n    type: call_llm\n    args: {tool_filter: {tag: x}}\n'
body=$(python3 -c 'import json,sys; print(json.dumps({"source": sys.argv[1]}))' "$bad")
rest POST /api/v1/workflows/runs "$body" >/dev/null
[ "$(status)" = 400 ] && grep -q 'workflow.yaml:6:25' "$work/body" ||
  fail "a malformed filter: $(status) $(cat "$work/body")"

# 6. Delete.
"$reliant" preset delete --server "$api" --token "$token" auditor >/dev/null || fail "delete"
code=0
"$reliant" preset delete --server "$api" --token "$token" auditor >"$work/again.out" 2>&1 || code=$?
[ "$code" = 1 ] && grep -q "no preset 'auditor'" "$work/again.out" ||
  fail "a second delete: $code $(cat "$work/again.out")"
echo "presets_monolith: ok"
