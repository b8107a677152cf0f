#!/usr/bin/env bash
# CEL against its peer, in the same run: bench_cel (this project's compiled program, and the tree
# walk it replaces) and @bufbuild/cel (tests/bench/cel_peer, locked) evaluate the agent loop's
# conditions (tests/bench/agent_conditions.json), alternating ROUNDS times because this machine's speed drifts; then the
# workflow interpreter's decisions per second on a 100-node workflow, against its CEL floor.
#   tools/bench_cel.sh [ROUNDS]     (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
cmake --build build --target bench_cel >/dev/null
if [ ! -d tests/bench/cel_peer/node_modules/@bufbuild/cel ]; then
  npm ci --prefix tests/bench/cel_peer --no-audit --no-fund --loglevel=error
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for round in $(seq "$rounds"); do
  build/tests/bench/bench_cel --benchmark_filter=AgentCondition --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true --benchmark_format=json >"$tmp/cpp-$round.json" 2>/dev/null
  node tests/bench/cel_peer/agent_conditions.mjs 100 2000 >"$tmp/peer-$round.jsonl"
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
            if b["name"] == f"BM_AgentCondition/{i}_median":
                ours.append(b["cpu_time"])
            if b["name"] == f"BM_AgentConditionWalk/{i}_median":
                walk.append(b["cpu_time"])
        peer.append([json.loads(l) for l in open(f"{tmp}/peer-{r}.jsonl")][i]["p50_ns"])
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
build/tests/bench/bench_cel --benchmark_filter='Interpreter' --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true 2>/dev/null | grep -E "median|Benchmark"
