#!/usr/bin/env bash
# A Google Benchmark binary that no tools/bench_*.sh runs, run once through every benchmark for
# 0.01 s each (Google Benchmark 1.7: --benchmark_min_time takes seconds, without a unit), so that
# it cannot rot unnoticed: it must exit 0 and report each benchmark with iterations and no error.
# The times it prints are not checked.
#   tests/bench/google_benchmark_smoke.sh BINARY
set -euo pipefail
binary=${1:?usage: google_benchmark_smoke.sh BINARY}
name=$(basename "$binary")
[ -x "$binary" ] || { echo "FAIL: $binary is missing: build it first"; exit 1; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$binary" --benchmark_min_time=0.01 --benchmark_format=json >"$out" || status=$?
[ "$status" -eq 0 ] || { echo "FAIL: $name exited $status"; exit 1; }
python3 - "$out" "$name" <<'PY'
import json, sys
path, name = sys.argv[1], sys.argv[2]
try:
    benchmarks = json.load(open(path))["benchmarks"]
except (ValueError, KeyError) as e:
    sys.exit(f"FAIL: {name} printed no benchmark results as JSON ({e})")
if not benchmarks:
    sys.exit(f"FAIL: {name} ran no benchmark")
failed = False
for b in benchmarks:
    if b.get("error_occurred") or b.get("iterations", 0) <= 0:
        print(f"FAIL: {name}: {b['name']}: {b.get('error_message', 'no iterations')}")
        failed = True
    else:
        print(f"ok   {name}: {b['name']}: {b['iterations']} iterations")
sys.exit(1 if failed else 0)
PY
