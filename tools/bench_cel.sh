#!/usr/bin/env bash
# CEL against its peer, in the same run: bench_cel (this project's compiled program, and the tree
# walk it replaces) and @bufbuild/cel (tests/bench/cel_peer, locked) evaluate the agent loop's
# conditions (tests/bench/agent_conditions.json), alternating ROUNDS times because this machine's speed drifts; then the
# workflow interpreter's decisions per second on a 100-node workflow, against its CEL floor.
#   tools/bench_cel.sh [ROUNDS]     (default 3)
#   tools/bench_cel.sh --smoke      one round, 0.01 s a repetition, 5 batches of the peer's,
#                                   checked (tools/bench_lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
if [ "${1:-}" = --smoke ]; then shift; smoke_mode "$@"; fi
rounds=${1:-3}
bench=$build/tests/bench/bench_cel
peer_batches=(100 2000)  # batches, evaluations a batch
min_time=()
quiet=/dev/null  # Google Benchmark's context lines; a smoke run shows them, and any error
if [ -n "$smoke" ]; then
  rounds=1
  peer_batches=(5 100)
  min_time=(--benchmark_min_time=0.01)
  quiet=/dev/stderr
  [ -d tests/bench/cel_peer/node_modules/@bufbuild/cel ] ||
    smoke_fail "tests/bench/cel_peer/node_modules is missing: npm ci --prefix tests/bench/cel_peer (tools/setup.sh does)"
else
  cmake --build "$build" --target bench_cel >/dev/null
  if [ ! -d tests/bench/cel_peer/node_modules/@bufbuild/cel ]; then
    npm ci --prefix tests/bench/cel_peer --no-audit --no-fund --loglevel=error
  fi
fi
smoke_need "$bench"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for round in $(seq "$rounds"); do
  "$bench" --benchmark_filter=AgentCondition --benchmark_repetitions=5 "${min_time[@]}" \
    --benchmark_report_aggregates_only=true --benchmark_format=json >"$tmp/cpp-$round.json" 2>"$quiet"
  node tests/bench/cel_peer/agent_conditions.mjs "${peer_batches[@]}" >"$tmp/peer-$round.jsonl"
done
python3 - "$tmp" "$rounds" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
spec = json.load(open("tests/bench/agent_conditions.json"))
rows = []
for i, expression in enumerate(spec["expressions"]):
    ours, walk, peer = [], [], []
    for r in range(1, rounds + 1):
        for b in json.load(open(f"{tmp}/cpp-{r}.json"))["benchmarks"]:
            if b.get("error_occurred"):
                sys.exit(f"bench_cel: {b['name']}: {b.get('error_message')}")
            if b["name"] == f"BM_AgentCondition/{i}_median":
                ours.append(b["cpu_time"])
            if b["name"] == f"BM_AgentConditionWalk/{i}_median":
                walk.append(b["cpu_time"])
        peer_lines = [json.loads(l) for l in open(f"{tmp}/peer-{r}.jsonl")]
        if len(peer_lines) != len(spec["expressions"]):
            sys.exit(f"the peer printed {len(peer_lines)} results for {len(spec['expressions'])} expressions")
        peer.append(peer_lines[i]["p50_ns"])
    if len(ours) != rounds or len(walk) != rounds:
        sys.exit(f"bench_cel printed no median for expression {i} ({expression})")
    rows.append((expression, statistics.median(ours), statistics.median(walk),
                 statistics.median(peer)))
print(f"{'expression':<64} {'ours ns':>8} {'walk ns':>8} {'peer ns':>8} {'peer/ours':>9}")
for e, o, w, p in rows:
    print(f"{e[:64]:<64} {o:8.0f} {w:8.0f} {p:8.0f} {p / o:9.1f}")
ratios = [p / o for _, o, _, p in rows]
walks = [w / o for _, o, w, _ in rows]
print(f"peer/ours: geometric mean {statistics.geometric_mean(ratios):.1f}, lowest {min(ratios):.1f}; "
      f"walk/ours: geometric mean {statistics.geometric_mean(walks):.1f}")
print(f"(medians over {rounds} alternating rounds; ours = cel::Program, walk = cel::evaluate's tree "
      f"walk, each the median of 5 repetitions; peer = @bufbuild/cel, p50 of 100 batches)")
PY
echo
interpreter=$("$bench" --benchmark_filter='Interpreter' --benchmark_repetitions=5 "${min_time[@]}" \
  --benchmark_report_aggregates_only=true 2>"$quiet" | grep -E "median|Benchmark")
echo "$interpreter"
smoke_expect "$interpreter" '^BM_InterpreterDecisions_median .* decisions/run=[1-9]' "bench_cel's interpreter"
smoke_expect "$interpreter" '^BM_InterpreterFloor_median ' "bench_cel's interpreter floor"
smoke_passed
