#!/usr/bin/env bash
# The workflow language through the real binary:
#  1. `reliant workflow validate` accepts every workflow in workflows/builtin and workflows/tests
#     (and the built-ins embedded in the binary);
#  2. every folder workflows/scenarios/NAME runs against builtin://NAME when
#     workflows/builtin/NAME.yaml exists, else against workflows/tests/NAME.yaml, and passes;
#  3. broken workflows (tests/workflow/invalid) make `validate` exit 1 with the exact
#     file:line:column: messages, and scenarios that are wrong on purpose (tests/workflow/failing)
#     are reported as failures.
# Usage: scenarios.sh REPO_ROOT/build/src/app/reliant REPO_ROOT
set -uo pipefail
reliant=${1:?usage: scenarios.sh RELIANT_BINARY REPO_ROOT}
root=${2:?usage: scenarios.sh RELIANT_BINARY REPO_ROOT}
status=0
checks=0
failed=0

pass() { checks=$((checks + 1)); echo "ok   $*"; }
fail() { checks=$((checks + 1)); failed=$((failed + 1)); status=1; echo "FAIL $*"; }

# Messages are printed with the path as given; run from the root so they name relative paths.
case $reliant in /*) ;; *) reliant=$PWD/$reliant ;; esac
cd "$root" || { echo "FAIL cannot cd to $root"; exit 1; }

# 1. Every workflow validates.
for file in workflows/builtin/*.yaml workflows/tests/*.yaml; do
  if out=$("$reliant" workflow validate "$file" 2>&1); then
    pass "validate $file"
  else
    fail "validate $file: $out"
  fi
done
for file in workflows/builtin/*.yaml; do
  name=$(basename "$file" .yaml)
  if out=$("$reliant" workflow validate "builtin://$name" 2>&1); then
    pass "validate builtin://$name"
  else
    fail "validate builtin://$name: $out"
  fi
done

# 2. Every scenario folder passes against its workflow.
scenario_files=0
for dir in workflows/scenarios/*/; do
  name=$(basename "$dir")
  if [ -f "workflows/builtin/$name.yaml" ]; then
    workflow="builtin://$name"
  elif [ -f "workflows/tests/$name.yaml" ]; then
    workflow="workflows/tests/$name.yaml"
  else
    fail "workflows/scenarios/$name: no workflows/builtin/$name.yaml or workflows/tests/$name.yaml"
    continue
  fi
  files=("$dir"*.yaml)
  if [ ! -e "${files[0]}" ]; then
    fail "workflows/scenarios/$name holds no scenario file"
    continue
  fi
  scenario_files=$((scenario_files + ${#files[@]}))
  out=$("$reliant" workflow scenario run --verbose --workflow "$workflow" "${files[@]}" 2>&1)
  code=$?
  summary=$(printf '%s\n' "$out" | tail -n 1)
  if [ "$code" -eq 0 ]; then
    pass "scenarios $name ($workflow): $summary"
  else
    fail "scenarios $name ($workflow): $summary"
    printf '%s\n' "$out" | grep -v '^PASS ' | sed 's/^/       /'
  fi
done
# Every test workflow has scenarios.
for file in workflows/tests/*.yaml; do
  name=$(basename "$file" .yaml)
  [ -d "workflows/scenarios/$name" ] || fail "$file has no workflows/scenarios/$name/"
done

# 3a. Broken workflows: exit 1, and exactly these messages: each line must appear, and no other
# (a mistake is reported once, not again by every edge naming a node that failed to load).
invalid=tests/workflow/invalid
expect_invalid() {  # expect_invalid FILE EXPECTED_LINE...
  local file=$1; shift
  local out; out=$("$reliant" workflow validate "$invalid/$file" 2>&1); local code=$?
  if [ "$code" -ne 1 ]; then
    fail "validate $invalid/$file exits $code, want 1: $out"
    return
  fi
  local line missing=0
  for line in "$@"; do
    if ! printf '%s\n' "$out" | grep -qxF -- "$line"; then
      fail "validate $invalid/$file: missing line: $line"
      missing=1
    fi
  done
  local count; count=$(printf '%s\n' "$out" | grep -c .)
  if [ "$missing" -eq 0 ] && [ "$count" -ne "$#" ]; then
    fail "validate $invalid/$file: $count message(s), want $#"
    missing=1
  fi
  if [ "$missing" -eq 0 ]; then
    pass "validate $invalid/$file exits 1 with $# expected message(s)"
  else
    printf '%s\n' "$out" | sed 's/^/       got: /'
  fi
}
p=$invalid
expect_invalid unknown-node-type.yaml \
  "$p/unknown-node-type.yaml:8:11: node \"summarise\": unknown node type \"summarize_llm\" (expected call_llm, execute_tools, approval, ask_question, save_message, run, compact, create_worktree, loop, join, group, router, workflow or inbox)"
expect_invalid unknown-edge-target.yaml \
  "$p/unknown-edge-target.yaml:12:5: edge to unknown node \"page_someone\"" \
  "$p/unknown-edge-target.yaml:17:5: edge from unknown node \"notfy\""
expect_invalid edge-lists.yaml \
  "$p/edge-lists.yaml:16:9: edge to unknown node \"tset\"" \
  "$p/edge-lists.yaml:18:14: edge default is an empty list" \
  "$p/edge-lists.yaml:20:9: edge to unknown node \"7\"" \
  "$p/edge-lists.yaml:20:19: edge to must be a string"
expect_invalid cycle.yaml \
  "$p/cycle.yaml:4:9: node \"write\" is on a cycle of edges; repeat work with a loop node"
expect_invalid bad-template.yaml \
  "$p/bad-template.yaml:7:37: args.content: column 24 of the expression: unexpected end of expression" \
  "$p/bad-template.yaml:10:38: node \"check\" condition: column 23 of the expression: unexpected character '='" \
  "$p/bad-template.yaml:11:19: args.command: column 6 of the expression: \"{{\" without its \"}}\""
# The same mistake inside a double-quoted scalar: the column points at the hole, one past the
# quote (the loader's own comment says quoted one-line scalars are located like plain ones).
expect_invalid quoted-template.yaml \
  "$p/quoted-template.yaml:9:38: args.content: column 24 of the expression: unexpected end of expression"
expect_invalid default-below-min.yaml \
  "$p/default-below-min.yaml:5:14: input \"retries\": default 0 is below min 1" \
  "$p/default-below-min.yaml:10:14: input \"ratio\": default 1.5 is above max 1" \
  "$p/default-below-min.yaml:15:14: input \"flavour\": default \"lemon\" is not one of \"vanilla\", \"mint\""
expect_invalid node-shapes.yaml \
  "$p/node-shapes.yaml:2:8: the workflow: entry \"ghost\" is not a node" \
  "$p/node-shapes.yaml:4:5: node \"first\": a run node needs a command" \
  "$p/node-shapes.yaml:6:5: unknown key \"comand\" in node \"first\" (expected args, command, condition, daemon, description, env, id, name, on_failure, save_message, shell, thread, timeout, type, ui, working_dir)" \
  "$p/node-shapes.yaml:7:5: node \"spin\": a loop needs while or items" \
  "$p/node-shapes.yaml:16:16: node \"wait\": a join's condition is \"all\" or \"any\"" \
  "$p/node-shapes.yaml:17:14: node \"wait\": timeout \"soon\" is not a duration such as 30s, 10m or 1h" \
  "$p/node-shapes.yaml:18:9: node id \"first\" is used twice" \
  "$p/node-shapes.yaml:20:13: node \"first\": daemon: daemon selector key \"type\" must be local, cloud or any, got \"moon\""
expect_invalid loop-policies.yaml \
  "$p/loop-policies.yaml:3:13: the workflow: on_failure must be pause or fail, got \"retry\"" \
  "$p/loop-policies.yaml:9:17: node \"each\": on_failure applies to parallel loops only (items with parallel: true or a count above 1)" \
  "$p/loop-policies.yaml:10:22: node \"each\" key: column 12 of the expression: unexpected end of expression" \
  "$p/loop-policies.yaml:13:17: output \"_failed\": names starting with \"_\" are reserved for the outputs a loop adds (_iterations, _results …)" \
  "$p/loop-policies.yaml:15:78: node \"lint\": on_failure must be pause or fail, got \"skip\"" \
  "$p/loop-policies.yaml:20:17: node \"fan\": a loop's on_failure must be continue, fail_fast or fail_all, got \"ignore\"" \
  "$p/loop-policies.yaml:21:18: node \"fan\": passthrough names inputs: a name or a list of names, got {\"files\":true}"

# A file that is fine next to broken ones: each is reported, the exit code is still 1.
out=$("$reliant" workflow validate workflows/tests/router.yaml "$p/cycle.yaml" 2>&1); code=$?
if [ "$code" -eq 1 ] && printf '%s\n' "$out" | grep -qxF 'workflows/tests/router.yaml: ok (workflow "router", 4 nodes, 3 inputs)' &&
   printf '%s\n' "$out" | grep -qF "$p/cycle.yaml:4:9: "; then
  pass "validate of a good and a broken file exits 1 and reports both"
else
  fail "validate of a good and a broken file: exit $code: $out"
fi

# 3b. Scenarios that are wrong on purpose must fail, each for its reason.
failing=tests/workflow/failing

# A scenario run that must fail: exit 1, and every line of expected_failures in its output.
expect_failures() {
  local what=$1 code=$2 out=$3
  if [ "$code" -ne 1 ]; then
    fail "scenario run of $what exits $code, want 1"
  fi
  for line in "${expected_failures[@]}"; do
    if printf '%s\n' "$out" | grep -qxF -- "$line"; then
      pass "expected failure: ${line:0:90}"
    else
      fail "missing line: $line"
      printf '%s\n' "$out" | sed 's/^/       got: /'
    fi
  done
}

out=$("$reliant" workflow scenario run --workflow workflows/tests/router.yaml \
  "$failing/router-mistakes.yaml" "$failing/malformed.yaml" 2>&1)
code=$?
expected_failures=(
  "FAIL an input outside the enum ($failing/router-mistakes.yaml:3): inputs: input \"severity\": \"medium\" is not one of \"critical\", \"high\", \"low\""
  "FAIL an event nobody asks for ($failing/router-mistakes.yaml:9): event 1 (page, line 11) was never used"
  "FAIL wrong expectations ($failing/router-mistakes.yaml:16): outcome is completed, expected error; not reached: page; reached, expected not: digest; node_outputs: classify.level is \"low\", expected \"high\"; node_outputs: ticket has no output"
  "$failing/malformed.yaml:2:1: unknown key \"expected\" in a scenario"
  "$failing/malformed.yaml:6:5: unknown key \"result\" in an event"
  "0 passed, 4 failed"
)
expect_failures "$failing" "$code" "$out"

out=$("$reliant" workflow scenario run --workflow workflows/tests/inputs.yaml \
  "$failing/inputs-mistakes.yaml" 2>&1)
code=$?
expected_failures=(
  "FAIL a required input left out ($failing/inputs-mistakes.yaml:3): inputs: input \"title\" is required"
  "FAIL text for an integer ($failing/inputs-mistakes.yaml:7): inputs: input \"count\": \"three\" is not an integer"
  "FAIL a value outside a multi enum ($failing/inputs-mistakes.yaml:12): inputs: input \"targets\": \"bsd\" is not one of \"linux\", \"mac\", \"windows\""
  "FAIL an input the workflow does not have ($failing/inputs-mistakes.yaml:17): inputs: unknown input \"colour\""
  "0 passed, 4 failed"
)
expect_failures "$failing/inputs-mistakes.yaml" "$code" "$out"

# A scenario folder's workflow that does not exist is an error, not a silent pass.
out=$("$reliant" workflow scenario run --workflow builtin://no-such-flow \
  workflows/scenarios/router/cases.yaml 2>&1); code=$?
if [ "$code" -eq 1 ] && printf '%s\n' "$out" | grep -qF 'builtin://no-such-flow: no such built-in workflow'; then
  pass "an unknown built-in is refused"
else
  fail "an unknown built-in: exit $code: $out"
fi

echo "$checks checks, $failed failed ($scenario_files scenario files)"
exit $status
