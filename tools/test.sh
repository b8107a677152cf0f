#!/usr/bin/env bash
# The whole test suite: installs and builds as tools/setup.sh does, then runs every test
# (unit, property, simulation sweeps, determinism, store, integration, lint, fuzz corpus)
# through CTest, the bus contract on a real nats-server, the suites again under AddressSanitizer
# + UBSan and ThreadSanitizer (tools/sanitize.sh), then a short coverage-guided fuzzing run of
# each parser.
#   tools/test.sh                   everything
#   FUZZ_SECONDS=0 tools/test.sh    skip the fuzzing run
#   SANITIZERS=0 tools/test.sh      skip the sanitizer builds
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
tools/setup.sh --build-only
ctest --test-dir build --output-on-failure -j"$(nproc)" -LE nats
# The bus contract on a real nats-server: one server, the tests one at a time.
ctest --test-dir build --output-on-failure -L nats
if [ "${SANITIZERS:-1}" != 0 ]; then
  tools/sanitize.sh asan
  tools/sanitize.sh tsan
fi
fuzz_seconds=${FUZZ_SECONDS:-20}
if [ "$fuzz_seconds" -gt 0 ]; then
  tools/fuzz.sh "$fuzz_seconds"
fi
