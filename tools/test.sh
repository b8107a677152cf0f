#!/usr/bin/env bash
# The whole test suite: installs and builds as tools/setup.sh does, then runs every test
# (unit, property, simulation sweeps, determinism, store, integration, lint, fuzz corpus)
# through CTest, then the bus contract on a real nats-server, then the threaded adapters, the
# stores and the bus again under ThreadSanitizer (tools/sanitize.sh tsan).
#   tools/test.sh                    the suite (what CI runs)
#   SANITIZERS=1 tools/test.sh       also the unit, property and simulator suites under
#                                    AddressSanitizer + UBSan (tools/sanitize.sh asan)
#   FUZZ_SECONDS=20 tools/test.sh    then a coverage-guided fuzzing run of each parser
# The last two are opt-in because each is a build of its own (GCC with ASan, clang with
# libFuzzer) that on 2 cores takes over an hour cold, which CI's time cannot hold.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
tools/setup.sh --build-only
ctest --test-dir build --output-on-failure -j"$(nproc)" -LE nats
# The bus contract on a real nats-server: one server, the tests one at a time.
ctest --test-dir build --output-on-failure -L nats
tools/sanitize.sh tsan
if [ "${SANITIZERS:-0}" != 0 ]; then
  tools/sanitize.sh asan
fi
fuzz_seconds=${FUZZ_SECONDS:-0}
if [ "$fuzz_seconds" -gt 0 ]; then
  tools/fuzz.sh "$fuzz_seconds"
fi
