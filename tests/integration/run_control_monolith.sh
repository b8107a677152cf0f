#!/usr/bin/env bash
# Run control on a real monolith, from the CLI (`reliant run pause|resume|retry|skip|fail|set|
# mode`, over REST):
#   - a ten-step run started with --on-failure pause whose ninth step fails (it outlives its
#     timeout) pauses instead of failing: the tenth does not start; retrying a step that did not
#     fail is refused (exit 1, saying which one waits); the ninth is retried with other args and
#     the run completes, every step having run once;
#   - a run paused while its first step runs lets that step finish and starts nothing more until
#     it is resumed; resuming a run that is not paused, or one that ended, is refused;
#   - an input set while a step runs is what the next step sees; an unknown input, a value its
#     type refuses and a mode for a workflow without one are refused;
#   - a failed step skipped with a given output goes on with that output; one failed by the user
#     fails the run, saying so;
#   - `reliant run message` reaches a running run's inbox as the user's message.
# Usage: run_control_monolith.sh RELIANT_BINARY
set -euo pipefail
reliant=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/monolith_lib.sh"
monolith_setup
start_monolith
cp "$here"/run_control/*.yaml "$work/"
cli() { "$reliant" "$@" --server "$api" --token "$token"; }
started() { sed -n 's/^run \([^ ]*\) (.*)$/\1/p' <<<"$1"; }
# Waits until `reliant run show RUN` prints a line matching PATTERN (up to SECONDS).
wait_show() {  # RUN PATTERN SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    cli run show "$1" >"$work/show.out" 2>&1 || true
    grep -qE "$2" "$work/show.out" && return 0
    sleep 0.1
  done
  fail "run $1 never showed '$2': $(cat "$work/show.out")"
}
expect_refusal() {  # PATTERN COMMAND...
  local pattern=$1
  shift
  if out=$(cli "$@" 2>&1); then fail "\`reliant $*\` was not refused: $out"; fi
  grep -qF "$pattern" <<<"$out" || fail "\`reliant $*\` said: $out (expected '$pattern')"
}

# The three runs whose steps fail start together: each failure takes its attempts (~20 s).
ten=$(started "$(cli workflow run "$work/ten_steps.yaml" --on-failure pause)")
skipped=$(started "$(cli workflow run "$work/held_step.yaml" --on-failure pause \
  --input log=skip.txt)")
failed=$(started "$(cli workflow run "$work/held_step.yaml" --on-failure pause \
  --input log=fail.txt)")
[ -n "$ten" ] && [ -n "$skipped" ] && [ -n "$failed" ] || fail "the runs did not start"

# Pause and resume, meanwhile.
chain=$(started "$(cli workflow run "$work/slow_chain.yaml" --input log=chain.txt)")
expect_refusal "the run is not paused" run resume "$chain"
cli run pause "$chain" >/dev/null || fail "pause refused"
expect_refusal "already paused" run pause "$chain"
# Its first step (2 s) finishes; then nothing follows it.
for _ in $(seq 1 200); do [ -s "$work/ws/chain.txt" ] && break; sleep 0.1; done
sleep 3
[ "$(cat "$work/ws/chain.txt" 2>&1)" = "a" ] || fail "a paused run went on: $(cat "$work/ws/chain.txt" 2>&1)"
wait_show "$chain" "^paused by its user" 5
cli run resume "$chain" >/dev/null || fail "resume refused"
wait_show "$chain" ": completed$" 20
[ "$(tr '\n' ' ' <"$work/ws/chain.txt")" = "a b target=first c " ] ||
  fail "the resumed run: $(cat "$work/ws/chain.txt")"
expect_refusal "has ended" run resume "$chain"

# An input changed while the first step runs reaches the next one.
set_run=$(started "$(cli workflow run "$work/slow_chain.yaml" --input log=set.txt)")
cli run set "$set_run" target second >/dev/null || fail "set refused"
expect_refusal "has no input 'nosuch'" run set "$set_run" nosuch 1
expect_refusal "input attempts" run set "$set_run" attempts 9
expect_refusal "has no input 'mode'" run mode "$set_run" plan
wait_show "$set_run" ": completed$" 20
grep -qx "b target=second" "$work/ws/set.txt" || fail "the set input: $(cat "$work/ws/set.txt")"

# A message to a running run reaches its inbox.
heard=$(started "$(cli workflow run "$work/heard.yaml")")
expect_refusal "expected {\"text\"" run message "$heard" ""
cli run message "$heard" "look at the logs" >/dev/null || fail "message refused"
wait_show "$heard" ": completed$" 20
[ "$(cat "$work/ws/heard.txt")" = "[message from the user] look at the logs" ] ||
  fail "the run heard: $(cat "$work/ws/heard.txt")"

# The ten-step run holds its ninth step; the tenth never started.
wait_show "$ten" "failed, waiting: s9" 60
[ "$(tr '\n' ' ' <"$work/ws/steps.txt")" = "s1 s2 s3 s4 s5 s6 s7 s8 " ] ||
  fail "steps before the retry: $(cat "$work/ws/steps.txt")"
grep -q "s10" "$work/show.out" && fail "the tenth step started: $(cat "$work/show.out")"
expect_refusal "'s3' is not a failed step waiting for the user (waiting: s9)" run retry "$ten" --node s3
cli run retry "$ten" --args '{"command": "echo s9-fixed >> steps.txt"}' >"$work/retry.out" ||
  fail "retry: $(cat "$work/retry.out")"
grep -q "retrying s9" "$work/retry.out" || fail "retry said: $(cat "$work/retry.out")"
wait_show "$ten" ": completed$" 20
[ "$(tr '\n' ' ' <"$work/ws/steps.txt")" = "s1 s2 s3 s4 s5 s6 s7 s8 s9-fixed s10 " ] ||
  fail "steps after the retry: $(cat "$work/ws/steps.txt")"
expect_refusal "has ended" run retry "$ten"

# Skipped with an output, the next step reads it; failed by the user, the run fails.
wait_show "$skipped" "failed, waiting: flaky" 60
cli run skip "$skipped" --output '{"exit_code": 7}' >/dev/null || fail "skip refused"
wait_show "$skipped" ": completed$" 20
grep -qx "after=7" "$work/ws/skip.txt" || fail "after the skip: $(cat "$work/ws/skip.txt")"
wait_show "$failed" "failed, waiting: flaky" 60
expect_refusal "must be a JSON object" run skip "$failed" --output '[1]'
cli run fail "$failed" >/dev/null || fail "fail refused"
wait_show "$failed" ": failed$" 20
grep -q "failed by the user" "$work/show.out" || fail "the failure: $(cat "$work/show.out")"
[ -e "$work/ws/fail.txt" ] && fail "a step after the failed one ran"
echo "PASS"
