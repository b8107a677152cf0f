#!/usr/bin/env bash
# For every scenario: the per-seed trace hashes of one `reliant-sim sweep` process must equal
# those of a fresh `reliant-sim run` process per seed. The two have different heap histories,
# so a run whose behaviour depends on memory addresses (e.g. a container ordered by pointer)
# gives different hashes here.
set -euo pipefail
sim=$1 scenarios=$2 seeds=${3:-20}
status=0
for scenario in "$scenarios"/*.yaml; do
  swept=$("$sim" sweep "$scenario" --seeds "1..$seeds" | grep -E '^\[[0-9]+/[0-9]+\] seed' | awk '{print $3, $6}')
  single=$(for seed in $(seq 1 "$seeds"); do
    echo "$seed $("$sim" run "$scenario" --seed "$seed" | sed -n 's/^trace: .* sha256 \([0-9a-f]\{64\}\)$/\1/p')"
  done)
  runs=$(printf '%s\n' "$swept" | grep -c .)
  if [ "$runs" -ne "$seeds" ]; then
    echo "FAIL $scenario: expected $seeds runs, saw $runs"; status=1; continue
  fi
  if [ "$swept" != "$single" ]; then
    echo "FAIL $scenario: trace hashes differ between a sweep and single runs (seed, sweep hash / run hash):"
    diff <(printf '%s\n' "$swept") <(printf '%s\n' "$single") | head -6
    status=1
  else
    echo "ok   $scenario: $seeds seeds, same hashes in a sweep and in $seeds separate processes"
  fi
done
exit $status
