#!/usr/bin/env bash
# The simulator's speed (issue 44): `reliant-sim sweep --jobs 1` over a pinned seed range of the
# busy fleet (100 daemons, 3 gateways, 20 clients, 300 s) and the idle fleet (100 daemons, 3
# gateways, 300 s), in × real time (simulated seconds × seeds / wall seconds; the issue's floors
# are 200× busy and 5,000× idle) and events per wall second. Given an OLD reliant-sim, old and new
# alternate ROUNDS times, since this machine's speed drifts, and each figure is shown with the
# new/old ratio of the medians. The ceiling, measured in the same run: the bare scheduler's events
# per second with tracing on (bench_scheduler's BM_TracedEvents), and each scenario's events per
# second as a share of it.
#   tools/bench_sim.sh [OLD_RELIANT_SIM [ROUNDS]]   (default: no old binary, 3 rounds)
#   tools/bench_sim.sh --smoke     one round of the new binary, checked (tools/bench_lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
if [ "${1:-}" = --smoke ]; then shift; smoke_mode "$@"; fi
old=${1:-}
rounds=${2:-3}
new=$build/sim/reliant-sim
scheduler=$build/tests/bench/bench_scheduler
# Seeds pinned so that every fault each scenario declares fires in the range: a sweep fails when
# one fires in none (its coverage check), and a benchmark of a failing sweep measures nothing.
scenarios=(busy:tests/bench/sim/fleet_busy_bench.yaml:1..4:200
  idle:tests/bench/sim/fleet_idle_bench.yaml:1..20:5000)
min_time=()
if [ -n "$smoke" ]; then
  rounds=1
  scenarios=(busy:tests/bench/sim/fleet_busy_bench.yaml:1..4:200
    idle:tests/bench/sim/fleet_idle_bench.yaml:1..1:5000)
  min_time=(--benchmark_min_time=0.01)
else
  nice cmake --build "$build" --target reliant-sim bench_scheduler -j2 >/dev/null
fi
smoke_need "$new" "$scheduler"
[ -z "$old" ] || [ -x "$old" ] || { echo "bench_sim: $old is not an executable" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One sweep, timed: prints "WALL_SECONDS EVENTS". The sweep must pass, or its time means nothing.
timed_sweep() {  # BINARY SCENARIO SEEDS
  local started ended out
  started=$(date +%s.%N)
  out=$("$1" sweep "$2" --seeds "$3" --jobs 1) || {
    echo "bench_sim: $1 sweep $2 --seeds $3 failed:" >&2
    tail -n 20 <<<"$out" >&2
    exit 1
  }
  ended=$(date +%s.%N)
  smoke_expect "$out" "^  passed +[0-9]+" "the sweep of $2"
  local events
  events=$(sed -nE 's/^  events +([0-9]+) .*/\1/p' <<<"$out")
  smoke_positive "$events" "the events of the sweep of $2"
  python3 -c 'import sys; print(f"{float(sys.argv[2]) - float(sys.argv[1]):.3f} {sys.argv[3]}")' \
    "$started" "$ended" "$events"
}

binaries=(new)
[ -z "$old" ] || binaries=(old new)
for round in $(seq "$rounds"); do
  for entry in "${scenarios[@]}"; do
    IFS=: read -r name file seeds _ <<<"$entry"
    for which in "${binaries[@]}"; do
      binary=$new
      [ "$which" = new ] || binary=$old
      timed=$(timed_sweep "$binary" "$file" "$seeds")
      read -r wall events <<<"$timed"
      echo "$round $name $which $wall $events" >>"$tmp/runs"
      echo "round $round: $name $which: $wall s, $events events" >&2
    done
  done
done
"$scheduler" --benchmark_filter='BM_TracedEvents$' "${min_time[@]}" --benchmark_format=json \
  >"$tmp/scheduler.json" 2>/dev/null

table=$(python3 - "$tmp" "${scenarios[@]}" <<'PY'
import json, statistics, sys
tmp, entries = sys.argv[1], sys.argv[2:]
runs = [line.split() for line in open(f"{tmp}/runs")]
ceiling = json.load(open(f"{tmp}/scheduler.json"))["benchmarks"][0]["events_per_second"]
print(f"bare scheduler (BM_TracedEvents): {ceiling:,.0f} events/s")
print(f"{'scenario':<8} {'binary':<6} {'seeds':>6} {'x real time':>12} {'floor':>6} "
      f"{'events/s':>10} {'of bare':>8} {'rounds (x real time)':<30}")
medians = {}
for entry in entries:
    name, file, seeds, floor = entry.split(":")
    first, last = (int(s) for s in seeds.split(".."))
    duration = next(l for l in open(file) if l.startswith("duration:")).split()[1]
    assert duration.endswith("s") and duration[:-1].isdigit(), f"{file}: duration {duration}"
    simulated_s = int(duration[:-1]) * (last - first + 1)
    for which in ("old", "new"):
        mine = [(float(w), int(e)) for _, n, b, w, e in runs if n == name and b == which]
        if not mine:
            continue
        speeds = [simulated_s / w for w, _ in mine]
        rates = [e / w for w, e in mine]
        speed, rate = statistics.median(speeds), statistics.median(rates)
        medians[(name, which)] = speed
        shown = " ".join(f"{s:.0f}" for s in speeds)
        print(f"{name:<8} {which:<6} {seeds:>6} {speed:>11.0f}x {floor:>5}x "
              f"{rate:>10,.0f} {rate / ceiling:>7.1%} {shown:<30}")
    if (name, "old") in medians:
        print(f"{name:<8} new/old {medians[(name, 'new')] / medians[(name, 'old')]:>17.2f}")
PY
)
echo "$table"
smoke_expect "$table" "^busy +new .*x" "the busy fleet's figures"
smoke_expect "$table" "^idle +new .*x" "the idle fleet's figures"
smoke_passed
