#!/usr/bin/env bash
# The simulation campaign: every scenario of scenarios/ swept over SEEDS seeds (500 unless told),
# each seed in a child process, with coverage on — a sweep fails on a broken invariant, a crash,
# or a fault type its scenario declares that never fired. CI runs the first 100 seeds of each
# scenario in-process (tests/sim/scenarios_test.cc, every fault firing in each 50-seed shard);
# this is the long sweep: it prints the coverage tables and takes any seed count, e.g. 2000
# before a release.
#   tools/sim_campaign.sh [SEEDS] [SCENARIO.yaml...]
# Prints one line per scenario (verdict, wall time) and keeps each sweep's full output under
# build/sim-campaign/; exits 1 if any sweep failed.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-500}
shift || true
sim=build/sim/reliant-sim
[ -x "$sim" ] || { echo "sim_campaign: $sim not built (tools/setup.sh --build-only)" >&2; exit 2; }
out=build/sim-campaign
mkdir -p "$out"
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(scenarios/*.yaml)

failed=0
started=$(date +%s)
for scenario in "${scenarios[@]}"; do
  name=$(basename "$scenario" .yaml)
  t0=$(date +%s%N)
  if "$sim" sweep "$scenario" --seeds "1..$seeds" --jobs "$(nproc)" --coverage >"$out/$name.txt" 2>&1; then
    verdict=passed
  else
    verdict=FAILED
    failed=1
  fi
  elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
  printf '%-34s %s  %4d.%d s\n' "$name" "$verdict" $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
done
echo "sim_campaign: ${#scenarios[@]} scenarios x $seeds seeds in $(($(date +%s) - started)) s; outputs in $out/"
exit $failed
