#!/usr/bin/env bash
# The whole test suite, in three build trees that each compile only what their suites run:
#   1. tools/setup.sh --build-only: installs what is missing and builds the shipping tree build/
#      (-O2), then CTest runs there everything but the unit and property suites — the
#      simulator's sweeps and determinism, the stores, integration with the real binaries, the
#      web app in chromium, conformance, the image and the manifests, lint, the fuzz corpus, a
#      smoke run of every benchmark — and then the bus contract on a real nats-server;
#   2. tools/sanitize.sh tsan: the threaded suite, the stores and the bus under ThreadSanitizer
#      (build-tsan/);
#   3. tools/sanitize.sh asan: the unit, property and simulator suites and the bus under
#      AddressSanitizer + UBSan (build-asan/).
#   tools/test.sh                    the suite (what CI runs)
#   FUZZ_SECONDS=20 tools/test.sh    then a coverage-guided fuzzing run of each parser
# Fuzzing is opt-in: it is a build of its own (clang with libFuzzer) and a run of its own length.
# ccache (keyed on paths relative to the checkout) makes a clone on a machine that built before
# recompile only what changed; from nothing, the whole suite takes the time the README states.
# Each phase's wall time is printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
started=$(date +%s)
timings=()
phase() {  # NAME COMMAND...
  local name=$1 began
  shift
  began=$(date +%s)
  "$@"
  timings+=("$(printf '%-34s %5d s' "$name" $(($(date +%s) - began)))")
}

phase "setup (install and build build/)" tools/setup.sh --build-only
phase "build/: ctest" ctest --test-dir build --output-on-failure -j"$(nproc)" -LE nats
# The bus contract on a real nats-server: one server, the tests one at a time.
phase "build/: ctest -L nats" ctest --test-dir build --output-on-failure -L nats
phase "tsan: build and tests" tools/sanitize.sh tsan
phase "asan: build and tests" tools/sanitize.sh asan
fuzz_seconds=${FUZZ_SECONDS:-0}
if [ "$fuzz_seconds" -gt 0 ]; then
  phase "fuzz" tools/fuzz.sh "$fuzz_seconds"
fi
echo
echo "test.sh: every phase passed"
printf '  %s\n' "${timings[@]}"
printf '  %-34s %5d s\n' "total" $(($(date +%s) - started))
