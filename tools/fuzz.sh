#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers with libFuzzer (clang, ASan + UBSan), in build-fuzz/:
# scenario YAML, the wire protocol (frames, bus JSON and binary bus bodies), daemon selectors, LLM
# server-sent events, user update announcements, REST chat request bodies, CEL expressions, JSON
# itself (parse_json's two readers held against each other), grep's patterns (RE2, linear time),
# presets, model catalogues and tool filters, and cron expressions and schedules.
#   tools/fuzz.sh [SECONDS_PER_TARGET]   (default 60)
# New inputs that grow coverage land in a scratch corpus; crashes are written to build-fuzz/
# and make the script fail. Copy a crash into fuzz/corpus/<target>/ once it is fixed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
targets=(scenario protocol selector sse updates chat_request cel workflow template jsonrpc terminal_socket json grep presets cron)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DRELIANT_FUZZ=ON -DRELIANT_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz --target "${targets[@]/#/fuzz_}" -j"$(nproc)"
for target in "${targets[@]}"; do
  scratch=build-fuzz/corpus/$target
  mkdir -p "$scratch"
  echo "== fuzz_$target for ${seconds}s"
  build-fuzz/fuzz/fuzz_$target "$scratch" fuzz/corpus/$target -max_total_time="$seconds" \
    -max_len=4096 -timeout=5 -rss_limit_mb=2048 -artifact_prefix=build-fuzz/$target- \
    -print_final_stats=1 2>&1 | tail -n 6
done
