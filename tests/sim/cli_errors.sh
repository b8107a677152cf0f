#!/usr/bin/env bash
# reliant-sim on bad input: a precise message naming file and line, and exit code 2; a failing
# invariant: exit code 1 and a reproduce line.
set -uo pipefail
sim=$1 dir=$2
status=0
expect() {  # expect EXIT_CODE PATTERN -- command...
  local want=$1 pattern=$2; shift 3
  local out; out=$("$@" 2>&1); local got=$?
  if [ "$got" -ne "$want" ] || ! grep -qF -- "$pattern" <<<"$out"; then
    echo "FAIL: $* → exit $got (want $want), output:"; echo "$out" | tail -3; status=1
  else
    echo "ok   $* → exit $got: $(grep -F -- "$pattern" <<<"$out" | head -1)"
  fi
}
expect 2 "bad_unknown_key.yaml:5:5: topology[0].rol: unknown key" -- "$sim" run "$dir/bad_unknown_key.yaml" --seed 1
expect 2 "bad_duration.yaml:3:11: duration: 'soon' is not a duration" -- "$sim" run "$dir/bad_duration.yaml"
expect 2 "bad_yaml.yaml:4:1: invalid YAML" -- "$sim" sweep "$dir/bad_yaml.yaml" --seeds 1..3
expect 2 "missing.yaml: cannot open the scenario file" -- "$sim" run "$dir/missing.yaml"
expect 2 "--seeds '5..1': expected A..B" -- "$sim" sweep "$dir/stuck_half_open.yaml" --seeds 5..1
expect 1 "reproduce: reliant-sim run $dir/stuck_half_open.yaml --seed 3" -- "$sim" run "$dir/stuck_half_open.yaml" --seed 3
expect 1 "reproduce: reliant-sim run $dir/stuck_half_open.yaml --seed 2" -- "$sim" sweep "$dir/stuck_half_open.yaml" --seeds 1..2
# A seed that crashes the simulator: its signal, the events before it (from a rerun) and the
# repro line naming the build; the sweep goes on and fails.
expect 1 "crashed with signal 6 (SIGABRT)" -- env RELIANT_SIM_ABORT_AT_EVENT=500 "$sim" sweep "$dir/stuck_half_open.yaml" --seeds 1..2 --jobs 2
# Each crash ends its worker: a new one takes the seeds that remain, and every seed is reported.
expect 1 "[3/3] seed 3 FAIL" -- env RELIANT_SIM_ABORT_AT_EVENT=500 "$sim" sweep "$dir/stuck_half_open.yaml" --seeds 1..3 --jobs 1
expect 1 "last events before the crash:" -- env RELIANT_SIM_ABORT_AT_EVENT=500 "$sim" sweep "$dir/stuck_half_open.yaml" --seeds 1..1
expect 1 "--seed 1  # build " -- env RELIANT_SIM_ABORT_AT_EVENT=500 "$sim" sweep "$dir/stuck_half_open.yaml" --seeds 1..1
expect 0 "stuck_half_open.yaml: ok (2 nodes" -- "$sim" check "$dir/stuck_half_open.yaml"
exit $status
