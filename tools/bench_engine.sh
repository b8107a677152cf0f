#!/usr/bin/env bash
# Durable-engine benchmark on every backend, each against its own floor measured in the same run:
# SQLite WAL synchronous=NORMAL and FULL, Postgres with fsync on (started by the project's own
# fixture and stopped afterwards). Builds first if needed.
#   tools/bench_engine.sh [STEPS]     (default 5000 transactions per measurement; Postgres and
#                                     SQLite FULL run half as many)
#   tools/bench_engine.sh --smoke     50 steps, and a few of each fixed-size measurement
#                                     (bench_engine --smoke), checked (tools/bench_lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
if [ "${1:-}" = --smoke ]; then shift; smoke_mode "$@"; fi
steps=${1:-5000}
bench=$build/tests/bench/bench_engine
pg=$build/bench-postgres  # not under $tmp: the postgres user must be able to reach it
smoke_args=()
if [ -n "$smoke" ]; then
  steps=50
  smoke_args=(--smoke)
  # Its own directory: a benchmark run by hand meanwhile keeps its server. Stopped first in case
  # a smoke run killed by a time limit left one behind.
  pg=$build/bench-postgres-smoke
  tools/pg_fixture.sh stop "$pg" >/dev/null 2>&1 || true
else
  [ -x "$bench" ] || cmake --build "$build" --target bench_engine -j"$(nproc)"
fi
smoke_need "$bench"
tmp=$(mktemp -d)
trap 'tools/pg_fixture.sh stop "$pg" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
engine() {  # ARG...: one backend's run; its lines are kept for the smoke run's checks
  "$bench" "$@" "${smoke_args[@]}" | tee -a "$tmp/results"
}
echo "engine step = one history append + task transitions (complete an activity); floor = a bare"
echo "transaction of one INSERT and one UPDATE on the same backend, through the same Store port."
echo
engine --driver sqlite --synchronous NORMAL --sqlite-path "$tmp/normal.db" --label "sqlite NORMAL" --steps "$steps"
engine --driver sqlite --synchronous FULL --sqlite-path "$tmp/full.db" --label "sqlite FULL" --steps "$((steps / 2))"
tools/pg_fixture.sh start "$pg" --fsync >/dev/null
url=$(cat "$pg/url")
psql "$url" -qc "CREATE DATABASE bench" >/dev/null
engine --driver postgres --url "${url%/*}/bench" --label "postgres (fsync on)" --steps "$((steps / 2))"

# Every backend printed every measurement, each with a rate above zero (the first figure after
# the two label columns), and the workflow runs made a decision for each of their nodes.
if [ -n "$smoke" ]; then
  python3 - "$tmp/results" <<'PY' || smoke_fail "bench_engine's results above are incomplete"
import math, re, sys
measurements = ["floor: INSERT+UPDATE, 1 client", "engine step, 1 worker",
                "floor, group commit (32 clients)", "engine step, group commit (32)",
                "group commit gain, engine steps", "chain, 1 worker, end to end",
                "dispatch, 4 workers", "workflow nodes, end to end", "workflow nodes, group commit"]
expected = {label: measurements for label in ("sqlite NORMAL", "sqlite FULL")}
expected["postgres (fsync on)"] = measurements + ["floor: INSERT+UPDATE, 4 clients",
                                                  "engine step, 4 workers"]
rows = {}
for line in open(sys.argv[1]):
    rows.setdefault((line[:22].strip(), line[23:57].strip()), []).append(line[58:])
problems = []
for label, whats in expected.items():
    for what in whats:
        for rest in rows.get((label, what)) or [None]:
            if rest is None:
                problems.append(f"{label}: no '{what}' line")
                continue
            figure = re.match(r"\s*(-?(?:nan|inf|[0-9.]+))", rest)
            if not (figure and math.isfinite(float(figure[1])) and float(figure[1]) > 0):
                problems.append(f"{label}: {what}: {rest.strip()}")
            nodes = re.search(r"\((\d+) runs x (\d+) no-op work nodes, 4 workers; (\d+) decisions", rest)
            if nodes and int(nodes[3]) < int(nodes[1]) * int(nodes[2]):
                problems.append(f"{label}: {what}: fewer decisions than nodes: {rest.strip()}")
for problem in problems:
    print(problem, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
fi
smoke_passed
