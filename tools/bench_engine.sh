#!/usr/bin/env bash
# Durable-engine benchmark on every backend, each against its own floor measured in the same run:
# SQLite WAL synchronous=NORMAL and FULL, Postgres with fsync on (started by the project's own
# fixture and stopped afterwards). Builds first if needed.
#   tools/bench_engine.sh [STEPS]     (default 5000 transactions per measurement; Postgres and
#                                     SQLite FULL run half as many)
set -euo pipefail
cd "$(dirname "$0")/.."
steps=${1:-5000}
[ -x build/tests/bench/bench_engine ] || cmake --build build --target bench_engine -j"$(nproc)"
bench=build/tests/bench/bench_engine
tmp=$(mktemp -d)
pg=build/bench-postgres  # not under $tmp: the postgres user must be able to reach it
trap 'tools/pg_fixture.sh stop "$pg" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
echo "engine step = one history append + task transitions (complete an activity); floor = a bare"
echo "transaction of one INSERT and one UPDATE on the same backend, through the same Store port."
echo
"$bench" --driver sqlite --synchronous NORMAL --sqlite-path "$tmp/normal.db" --label "sqlite NORMAL" --steps "$steps"
"$bench" --driver sqlite --synchronous FULL --sqlite-path "$tmp/full.db" --label "sqlite FULL" --steps "$((steps / 2))"
tools/pg_fixture.sh start "$pg" --fsync >/dev/null
url=$(cat "$pg/url")
psql "$url" -qc "CREATE DATABASE bench" >/dev/null
"$bench" --driver postgres --url "${url%/*}/bench" --label "postgres (fsync on)" --steps "$((steps / 2))"
