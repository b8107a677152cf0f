#!/usr/bin/env bash
# `reliant cel eval` through the real binary: a value as JSON with exit 0; a syntax or evaluation
# error with its column and exit 1; bad options with exit 2.
set -uo pipefail
reliant=$1
status=0
expect() {  # expect EXIT_CODE OUTPUT -- command...
  local want=$1 pattern=$2; shift 3
  local out; out=$("$@" 2>&1); local got=$?
  if [ "$got" -ne "$want" ] || [ "$out" != "$pattern" ]; then
    echo "FAIL: $* → exit $got (want $want), output: $out (want $pattern)"; status=1
  else
    echo "ok   $* → exit $got: $out"
  fi
}
vars='{"inputs": {"files": ["a.cc", "b.h"], "mode": "plan"}, "nodes": {"review": {"output": "ok"}}}'
expect 0 'true' -- "$reliant" cel eval 'size(inputs.files) == 2 && inputs.mode in ["auto", "plan"]' --vars "$vars"
expect 0 '["a.cc!","b.h!"]' -- "$reliant" cel eval 'inputs.files.map(f, f + "!")' --vars "$vars"
expect 0 '"none"' -- "$reliant" cel eval 'nodes.?approve.output.orValue("none")' --vars "$vars"
expect 0 '{"n":9223372036854775807}' -- "$reliant" cel eval '{"n": 9223372036854775807}'
expect 1 'error: column 4: unexpected end of expression' -- "$reliant" cel eval '1 +'
expect 1 'error: column 3: division by zero' -- "$reliant" cel eval 'x / 0' --vars '{"x": 1}'
expect 1 'error: column 1: undeclared reference to '"'"'y'"'" -- "$reliant" cel eval 'y'
expect 1 'error: column 25: evaluation cost budget exceeded' -- "$reliant" cel eval '[1, 2, 3].map(a, [1, 2, 3].map(b, a * b))' --budget 10
# IANA zones come from the machine's tz database; a name that climbs out of it is refused.
if [ -f /usr/share/zoneinfo/Asia/Kolkata ]; then
  expect 0 '20' -- "$reliant" cel eval "timestamp('2026-11-24T15:00:00Z').getHours('Asia/Kolkata')"
fi
expect 1 "error: column 34: unknown time zone '../etc/passwd'" -- "$reliant" cel eval "timestamp('2026-11-24T15:00:00Z').getHours('../etc/passwd')"
expect 2 'error: --vars must be a JSON object' -- "$reliant" cel eval 'x' --vars '[1]'
expect 2 'error: --budget must be at least 1' -- "$reliant" cel eval 'x' --budget 0
exit $status
