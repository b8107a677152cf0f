#!/usr/bin/env bash
# The whole test suite: installs and builds as tools/setup.sh does, then runs every test
# (unit, property, simulation sweeps, determinism, store, integration, lint, fuzz corpus,
# benchmark smoke runs) through CTest, then the bus contract on a real nats-server, then the
# threaded adapters, the stores and the bus again under ThreadSanitizer (tools/sanitize.sh tsan),
# then the unit, property and simulator suites under AddressSanitizer + UBSan
# (tools/sanitize.sh asan).
#   tools/test.sh                    the suite (what CI runs)
#   FUZZ_SECONDS=20 tools/test.sh    then a coverage-guided fuzzing run of each parser
# Fuzzing is opt-in: it is a build of its own (clang with libFuzzer) and a run of its own length.
# Each sanitizer is a build of its own too, over an hour cold on 2 cores; ccache (keyed on paths
# relative to the checkout) makes a clone on a machine that built before recompile only what
# changed.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
tools/setup.sh --build-only
ctest --test-dir build --output-on-failure -j"$(nproc)" -LE nats
# The bus contract on a real nats-server: one server, the tests one at a time.
ctest --test-dir build --output-on-failure -L nats
tools/sanitize.sh tsan
tools/sanitize.sh asan
fuzz_seconds=${FUZZ_SECONDS:-0}
if [ "$fuzz_seconds" -gt 0 ]; then
  tools/fuzz.sh "$fuzz_seconds"
fi
