#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers with libFuzzer (clang, ASan + UBSan), in build-fuzz/.
#   tools/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
# New inputs that grow coverage land in a scratch corpus; crashes are written to build-fuzz/
# and make the script fail. Copy a crash into fuzz/corpus/<target>/ once it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DRELIANT_FUZZ=ON -DRELIANT_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target fuzz_scenario -j"$(nproc)"
scratch=build-fuzz/corpus/scenario
mkdir -p "$scratch"
build-fuzz/fuzz/fuzz_scenario "$scratch" fuzz/corpus/scenario -max_total_time="$seconds" -max_len=4096 \
  -timeout=5 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/ -print_final_stats=1 2>&1 | tail -n 15
