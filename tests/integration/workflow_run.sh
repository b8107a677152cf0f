#!/usr/bin/env bash
# Workflow-language runs on the real monolith, from the CLI: a workflow that waits for an
# approval is started with `reliant workflow run FILE --follow`, which prints the waiting node
# and how to answer it; `reliant run approve` answers it over REST and the follow ends with
# the run's outputs. A project's stored workflow runs by name; a definition with a mistake is
# refused at file:line:column before anything starts; answering a run that waits for nothing
# is a 409 and exit status 1. The run commands' old names under `reliant workflow` still work
# and warn; `reliant workflow list` lists the built-in and the project's workflows.
# `reliant chat --project P --workflow NAME --input k=v` runs a project's workflow in a chat,
# and the chat keeps it for its next message. `reliant chat --mode manual` shows the approval
# a tool call waits for, and runs it once approved. The embedded daemon's files are read and
# written over REST, confined to the workspace, and a terminal on it is opened, typed into,
# resized, left and re-attached over /api/v2/terminal/ws.
#   workflow_run.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
source "$(dirname "$0")/../../tools/ports.sh"
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -n 30 "$f"; done
  exit 1
}
mkdir -p "$work/ws"
port=$(free_port_block 2)
api="https://127.0.0.1:$port"
"$reliant" monolith --data-dir "$work/data" --api-port "$port" --grpc-port $((port + 1)) \
  --working-dir "$work/ws" >>"$work/monolith.log" 2>&1 &
pid=$!
for _ in $(seq 1 50); do
  [ -s "$work/data/tls/cert.pem" ] && command curl -sf --cacert "$work/data/tls/cert.pem" "$api/health" >/dev/null && break
  sleep 0.1
done
cli() { "$reliant" "$@" --server "$api" --data-dir "$work/data"; }

cat >"$work/release.yaml" <<'YAML'
name: release
description: Ship a version once approved.
inputs:
  version: {type: string, default: "0.1"}
entry: approve
nodes:
  - {id: approve, type: approval, title: "Release {{ inputs.version }}?"}
  - {id: announce, type: router, args: {text: "released {{ inputs.version }}"}}
edges:
  - from: approve
    cases:
      - {to: announce, condition: "nodes.approve.status == 'approved'"}
outputs:
  decision: "{{ nodes.approve.status }}"
  note: "{{ nodes.approve.message }}"
  text: "{{ has(nodes.announce) ? nodes.announce.text : '' }}"
YAML

# A mistake is refused before the run starts, at its place in the file.
printf 'name: broken\nentry: a\nnodes:\n  - {id: a, type: nope}\n' >"$work/broken.yaml"
if out=$(cli workflow run "$work/broken.yaml" 2>&1); then fail "a broken workflow started: $out"; fi
grep -qF "broken.yaml:4:" <<<"$out" || fail "the refusal does not name the place: $out"

: >"$work/follow.log"  # there before the follower's shell opens it: the loop below reads it
cli workflow run "$work/release.yaml" --input version=2.0 --follow >"$work/follow.log" 2>&1 &
follower=$!
run_id=""
for _ in $(seq 1 100); do
  run_id=$(sed -n 's/^run \([^ ]*\) (release)$/\1/p' "$work/follow.log")
  [ -n "$run_id" ] && grep -q "waiting approve" "$work/follow.log" && break
  sleep 0.1
done
grep -q "waiting approve (approval): Release 2.0?" "$work/follow.log" \
  || fail "the follow did not show the waiting approval: $(cat "$work/follow.log")"
grep -qF "reliant run approve|deny $run_id" "$work/follow.log" \
  || fail "the follow did not say how to answer: $(cat "$work/follow.log")"
out=$(cli run approve "$run_id" --message "ship it" 2>&1) || fail "approve: $out"
grep -qF "approved approve" <<<"$out" || fail "approve said: $out"
wait "$follower" || fail "the follow exited $?: $(cat "$work/follow.log")"
grep -qF 'completed: {"decision":"approved","note":"ship it","text":"released 2.0"}' "$work/follow.log" \
  || fail "the run's outputs: $(cat "$work/follow.log")"

# Nothing waits any more: a second answer is refused (409), exit status 1 — under the old name,
# which still works and says where the command went.
if out=$(cli workflow deny "$run_id" 2>&1); then fail "a second answer was accepted: $out"; fi
grep -qF "has ended" <<<"$out" || fail "the second answer's refusal: $out"
grep -qF 'warning: `reliant workflow deny` is deprecated: use `reliant run deny`' <<<"$out" \
  || fail "the old name did not warn: $out"

# A question answered from the CLI: the run goes on with the answer as the node's output;
# `run list` and `run show` see it, and a run still waiting is cancelled.
cat >"$work/ask.yaml" <<'YAML'
name: ask
entry: pick
nodes:
  - id: pick
    type: ask_question
    title: Storage
    question: Which store should the cache use?
    options: [redis, memcached]
  - id: say
    type: save_message
    args: {role: assistant, content: "using {{ nodes.pick.answer }}"}
edges:
  - {from: pick, to: say}
outputs:
  store: "{{ nodes.pick.answer }}"
YAML
out=$(cli workflow run "$work/ask.yaml" 2>&1) || fail "run ask: $out"
ask_run=$(sed -n 's/^run \([^ ]*\) (ask)$/\1/p' <<<"$out")
[ -n "$ask_run" ] || fail "no run id in: $out"
for _ in $(seq 1 50); do
  if out=$(cli run answer "$ask_run" redis 2>&1); then break; fi
  sleep 0.1
done
grep -qF "answered pick" <<<"$out" || fail "answer: $out"
out=$(cli run follow "$ask_run" 2>&1) || fail "follow the answered run: $out"
grep -qF '"store":"redis"' <<<"$out" || fail "the answer is not the run's output: $out"
out=$(cli run show "$ask_run" 2>&1) || fail "show: $out"
grep -q "pick" <<<"$out" && grep -q "say" <<<"$out" || fail "show lists no nodes: $out"
out=$(cli workflow run "$work/ask.yaml" 2>&1) || fail "run ask again: $out"
waiting_run=$(sed -n 's/^run \([^ ]*\) (ask)$/\1/p' <<<"$out")
out=$(cli run list 2>/dev/null) || fail "list: $out"
grep -qF "$ask_run" <<<"$out" && grep -qF "$waiting_run" <<<"$out" || fail "list misses a run: $out"
# The old list of runs is `workflow runs` now (`workflow list` lists workflows), with a warning.
out=$(cli workflow runs 2>"$work/runs_warning.log") || fail "workflow runs: $out"
grep -qF "$ask_run" <<<"$out" || fail "workflow runs misses a run: $out"
grep -qF 'use `reliant run list`' "$work/runs_warning.log" || fail "no warning: $(cat "$work/runs_warning.log")"
out=$(cli workflow list 2>&1) || fail "workflow list: $out"
grep -qE '^builtin://agent +builtin +Chat agent' <<<"$out" || fail "workflow list: $out"
grep -qF "$ask_run" <<<"$out" && fail "workflow list shows runs: $out"
out=$(cli run cancel "$waiting_run" 2>&1) || fail "cancel: $out"
if out=$(cli run follow "$waiting_run" 2>&1); then fail "a cancelled run followed to success: $out"; fi
grep -qi "cancel" <<<"$out" || fail "the cancelled run's end: $out"
echo "ok: a question answered from the CLI, the runs listed and shown, a waiting run cancelled"

# A project's stored workflow, by name; denied, it takes no edge.
token=$(cat "$work/data/auth/token")
project=$(command curl -sf --cacert "$work/data/tls/cert.pem" -H "Authorization: Bearer $token" \
  -d '{"name":"web"}' "$api/api/v1/projects" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 -c 'import json,sys; print(json.dumps({"source": open(sys.argv[1]).read()}))' "$work/release.yaml" >"$work/body.json"
code=$(command curl -s -o "$work/created.json" -w '%{http_code}' --cacert "$work/data/tls/cert.pem" \
  -H "Authorization: Bearer $token" --data-binary @"$work/body.json" "$api/api/v1/projects/$project/workflows")
[ "$code" = 201 ] || fail "storing the workflow: HTTP $code $(cat "$work/created.json")"
out=$(cli workflow run release --project "$project" 2>&1) || fail "run by name: $out"
stored_run=$(sed -n 's/^run \([^ ]*\) (release)$/\1/p' <<<"$out")
for _ in $(seq 1 50); do
  if out=$(cli run deny "$stored_run" 2>&1); then break; fi
  sleep 0.1
done
grep -qF "denied approve" <<<"$out" || fail "deny: $out"
out=$(cli run follow "$stored_run" 2>&1) || fail "follow: $out"
grep -qF '"decision":"denied"' <<<"$out" && grep -qF '"text":""' <<<"$out" \
  || fail "the denied run's outputs: $out"
# A chat that runs a project's workflow with inputs (`reliant chat --workflow --input`); inputs
# the workflow does not declare are refused before anything runs.
printf 'name: greet\ninputs:\n  who: {type: string, default: world}\nentry: hello\nnodes:\n  - id: hello\n    type: save_message\n    args: {role: assistant, content: "hello {{ inputs.who }}"}\n' >"$work/greet.yaml"
python3 -c 'import json,sys; print(json.dumps({"source": open(sys.argv[1]).read()}))' "$work/greet.yaml" >"$work/body.json"
code=$(command curl -s -o "$work/created.json" -w '%{http_code}' --cacert "$work/data/tls/cert.pem" \
  -H "Authorization: Bearer $token" --data-binary @"$work/body.json" "$api/api/v1/projects/$project/workflows")
[ "$code" = 201 ] || fail "storing greet: HTTP $code $(cat "$work/created.json")"
out=$(cli workflow list --project "$project" 2>&1) || fail "workflow list --project: $out"
grep -qE '^builtin://agent +builtin ' <<<"$out" && grep -qE '^greet +project$' <<<"$out" \
  && grep -qE '^release +project +Ship a version once approved\.$' <<<"$out" \
  || fail "workflow list --project: $out"
out=$(cli chat --project "$project" --workflow greet --input who=web "say hello" 2>&1) || fail "chat: $out"
grep -qF "● hello web" <<<"$out" || fail "the chat's workflow did not answer: $out"
chat_id=$(sed -n 's/^chat \([^ ]*\) · run .*$/\1/p' <<<"$out")
out=$(cli chat --chat "$chat_id" --input who=again "once more" 2>&1) || fail "chat again: $out"
grep -qF "● hello again" <<<"$out" || fail "the chat kept its workflow: $out"
if out=$(cli chat --project "$project" --workflow greet --input nope=1 "hi" 2>&1); then
  fail "an undeclared input was accepted: $out"
fi
grep -qF "nope" <<<"$out" || fail "the refusal does not name the input: $out"
# Manual mode in `reliant chat`: the tool call waits, the chat says so and how to answer; the
# approval given with `reliant run approve` runs it, and the answer streams to the chat.
cli chat --mode manual 'run `echo approved-in-manual`' >"$work/manual.log" 2>&1 &
chatter=$!
answer_line=""
for _ in $(seq 1 100); do
  answer_line=$(grep -m1 "→ reliant run approve|deny" "$work/manual.log" || true)
  [ -n "$answer_line" ] && break
  sleep 0.1
done
[ -n "$answer_line" ] || fail "the manual chat did not show its waiting approval: $(cat "$work/manual.log")"
grep -q "^  waiting .* (approval)" "$work/manual.log" || fail "no waiting line: $(cat "$work/manual.log")"
sleep 0.5
grep -q "⎿ approved-in-manual" "$work/manual.log" && fail "the tool ran before its approval: $(cat "$work/manual.log")"
manual_run=$(sed -n 's/.*approve|deny \([^ ]*\) --node.*/\1/p' <<<"$answer_line")
out=$(cli run approve "$manual_run" 2>&1) || fail "approve the manual chat's call: $out"
wait "$chatter" || fail "the manual chat exited $?: $(cat "$work/manual.log")"
grep -q "⎿ approved-in-manual" "$work/manual.log" || fail "the approved call's output: $(cat "$work/manual.log")"
# The embedded daemon's files over REST (FileSystemService): written and read in the workspace;
# `..`, an absolute path and a symlink out of it are refused (403) and nothing outside is read.
daemon_id=$(command curl -sf --cacert "$work/data/tls/cert.pem" -H "Authorization: Bearer $token" \
  "$api/api/v1/daemons" | python3 -c 'import json,sys; print(json.load(sys.stdin)["daemons"][0]["id"])')
files="$api/api/v1/daemons/$daemon_id/files"
fs() {  # METHOD PATH_AND_QUERY [BODY] → the status; the body in $work/fs.json
  command curl -s -o "$work/fs.json" -w '%{http_code}' --cacert "$work/data/tls/cert.pem" \
    -X "$1" -H "Authorization: Bearer $token" ${3:+--data-binary "$3"} "$files$2"
}
[ "$(fs PUT '/content?path=notes/today.md' '{"content":"written over REST"}')" = 200 ] ||
  fail "write: $(cat "$work/fs.json")"
[ "$(cat "$work/ws/notes/today.md")" = "written over REST" ] || fail "the file on disk: $(ls -R "$work/ws")"
[ "$(fs GET '/content?path=notes/today.md')" = 200 ] &&  # content: the bytes in base64
  grep -qF "\"content\":\"$(printf 'written over REST' | base64)\"" "$work/fs.json" ||
  fail "read: $(cat "$work/fs.json")"
echo "outside the workspace" >"$work/secret.txt"
ln -s "$work/secret.txt" "$work/ws/link.txt"
for outside in '../secret.txt' "$work/secret.txt" 'link.txt'; do
  code=$(fs GET "/content?path=$outside")
  [ "$code" = 403 ] || fail "$outside: HTTP $code $(cat "$work/fs.json")"
  grep -qF -e "outside the workspace" -e "$(base64 <"$work/secret.txt")" "$work/fs.json" &&
    fail "$outside was read: $(cat "$work/fs.json")"
done
# A terminal on the embedded daemon over the api's WebSocket, driven by the `ws` npm client.
node "$(dirname "$0")/../interop/terminal_ws.mjs" "$api" "$work/data/tls/cert.pem" "$token" "$daemon_id" \
  >"$work/terminal_ws.log" 2>&1 || fail "terminal WebSocket: $(cat "$work/terminal_ws.log")"
cat "$work/terminal_ws.log"
echo "workflow_run: ok"
