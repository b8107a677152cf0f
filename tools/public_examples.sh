#!/usr/bin/env bash
# Reliant's public example workflows (the `examples/` folder of its public repository, which
# this project does not copy) on this build, offline:
#   1. `reliant workflow validate` accepts every examples/workflows/*.yaml;
#   2. every examples/scenarios/NAME/*.yaml passes against examples/workflows/NAME.yaml (the
#      pure interpreter, as `reliant workflow scenario run`);
#   3. agent.yaml, checklist.yaml and retry-with-escalation.yaml run end to end on a real
#      `reliant monolith` with the scripted model: stored as a project's workflows, started with
#      `reliant chat --project P --workflow NAME`, tools run by the embedded daemon in a scratch
#      git checkout. agent runs in auto mode and in manual mode (its approval given with
#      `reliant run approve`); checklist with every step, its approval gate approved once
#      and denied once; retry-with-escalation with a verify command that passes and one that
#      fails (which escalates to the planner). Each run's nodes are printed as `run show`
#      reports them.
#   0. `reliant preset validate` accepts every examples/presets/*.yaml, unchanged.
# Exit 0 when everything passed. Usage: tools/public_examples.sh EXAMPLES
# EXAMPLES is the examples/ folder, a checkout of the repository, or a bare clone of it (its
# examples/ are read from HEAD). CTest runs this as `public_examples` when CMake's
# RELIANT_PUBLIC_EXAMPLES (or the environment variable of that name at configure time) names one.
set -euo pipefail
given="${1:?usage: tools/public_examples.sh EXAMPLES}"
cd "$(dirname "$0")/.."
root=$PWD
reliant=${RELIANT_BUILD_DIR:-$root/build}/src/app/reliant
[ -x "$reliant" ] || { echo "build first: tools/setup.sh --build-only"; exit 2; }
source tools/ports.sh
work=$(mktemp -d)
if [ -d "$given/workflows" ] || [ -d "$given/presets" ]; then
  examples=$(cd "$given" && pwd)
elif [ -d "$given/examples" ]; then
  examples=$(cd "$given/examples" && pwd)
elif git -C "$given" rev-parse --verify -q HEAD:examples >/dev/null; then
  git -C "$given" archive HEAD examples | tar -x -C "$work"
  examples=$work/examples
else
  echo "$given: no examples/ folder and no git repository holding one"
  rm -rf "$work"
  exit 2
fi
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
checks=0
pass() { checks=$((checks + 1)); echo "ok   $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $*"; }

echo "== 0. presets"
presets=0
for file in "$examples"/presets/*.yaml; do
  [ -f "$file" ] || continue
  presets=$((presets + 1))
  if out=$("$reliant" preset validate "$file" 2>&1); then pass "$out"; else fail "$out"; fi
done
[ "$presets" -gt 0 ] || fail "no presets in $examples/presets"

echo "== 1. validate"
for file in "$examples"/workflows/*.yaml; do
  if out=$("$reliant" workflow validate "$file" 2>&1); then pass "$out"; else fail "$out"; fi
done

echo "== 2. scenarios (pure interpreter)"
for dir in "$examples"/scenarios/*/; do
  name=$(basename "$dir")
  [ -f "$examples/workflows/$name.yaml" ] || continue
  out=$("$reliant" workflow scenario run --workflow "$examples/workflows/$name.yaml" "$dir"*.yaml 2>&1) &&
    pass "$name: $(tail -n 1 <<<"$out")" || fail "$name: $(grep FAIL <<<"$out" | head -n 5)"
done

echo "== 3. on the monolith, scripted model"
mkdir -p "$work/ws"
git -C "$work/ws" init -q
printf 'test:\n\t@echo all tests pass\n' >"$work/ws/Makefile"
git -C "$work/ws" add Makefile
git -C "$work/ws" -c user.email=dev@example.com -c user.name=dev commit -qm "a Makefile"
port=$(free_port_block 2)
api="https://127.0.0.1:$port"
"$reliant" monolith --data-dir "$work/data" --api-port "$port" --grpc-port $((port + 1)) \
  --working-dir "$work/ws" >"$work/monolith.log" 2>&1 &
pid=$!
# Bounds generous enough for a machine busy building (this runs in CTest beside other tests).
for _ in $(seq 1 600); do
  [ -s "$work/data/tls/cert.pem" ] && curl -sf --cacert "$work/data/tls/cert.pem" "$api/health" >/dev/null && break
  sleep 0.1
done
client=(--server "$api" --data-dir "$work/data")
token=$(cat "$work/data/auth/token")
rest() {  # METHOD PATH [BODY FILE]
  curl -sf --cacert "$work/data/tls/cert.pem" -H "Authorization: Bearer $token" -X "$1" \
    ${3:+--data-binary @"$3"} "$api$2"
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
echo '{"name":"examples"}' >"$work/project.json"
project=$(rest POST /api/v1/projects "$work/project.json" | json '["id"]')
for name in agent checklist retry-with-escalation; do
  python3 -c 'import json,sys; print(json.dumps({"source": open(sys.argv[1]).read()}))' \
    "$examples/workflows/$name.yaml" >"$work/$name.json"
  rest POST "/api/v1/projects/$project/workflows" "$work/$name.json" >/dev/null
done

# chat LABEL NAME EXPECTED_TEXT [ANSWER...] -- ARGS…: a chat running NAME; each ANSWER
# (approve|deny) is given to the next approval the run waits for. Passes when the chat exits 0
# and its output holds EXPECTED_TEXT.
chat() {
  local label=$1 name=$2 expected=$3
  shift 3
  local answers=()
  while [ "$1" != "--" ]; do answers+=("$1"); shift; done
  shift
  local log=$work/$label.log
  "$reliant" chat "${client[@]}" --project "$project" --workflow "$name" "$@" >"$log" 2>&1 &
  local chat_pid=$!
  local run_id=""
  for _ in $(seq 1 600); do
    run_id=$(sed -n 's/^chat .* · run \([0-9A-Z]*\)$/\1/p' "$log")
    [ -n "$run_id" ] && break
    sleep 0.1
  done
  for answer in "${answers[@]}"; do
    for _ in $(seq 1 600); do
      "$reliant" run show "$run_id" "${client[@]}" 2>/dev/null | grep -q "^  waiting .*(approval)" && break
      sleep 0.1
    done
    "$reliant" run "$answer" "$run_id" "${client[@]}" >>"$log" 2>&1 || true
  done
  local status=0
  wait "$chat_pid" || status=$?
  echo "--- $label: reliant chat exited $status; run $run_id:"
  "$reliant" run show "$run_id" "${client[@]}" | cut -c1-160 | sed 's/^/    /'
  if [ "$status" -eq 0 ] && grep -qF -- "$expected" "$log"; then
    pass "$label"
  else
    fail "$label: no '$expected' in:"
    sed 's/^/    /' "$log"
  fi
}

chat agent-auto agent "all tests pass" -- 'run `make test`'
chat agent-manual agent "all tests pass" approve -- --mode manual 'run `make test`'
all_steps='{"steps":["research","plan","critique","approve","tdd","implement","lint","test","build","code_review"],"lint_command":"true","test_command":"make test","build_command":"true","lint_log":"lint.log","test_log":"test.log","build_log":"build.log"}'
chat checklist-approved checklist "Checklist Complete" approve -- --inputs "$all_steps" \
  'list the files'
chat checklist-denied checklist "Approval Denied" deny -- --inputs "$all_steps" 'list the files'
chat retry-passes retry-with-escalation "passed after 1 attempt" -- 'run `make test`'
chat retry-escalates retry-with-escalation "Both approaches failed" -- \
  --input 'verify_command=echo still broken >&2; exit 1' 'run `make test`'

echo "$checks checks: $((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
