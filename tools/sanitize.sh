#!/usr/bin/env bash
# The test suites under sanitizers, each in a build directory of its own (tools/test.sh runs
# both):
#   tools/sanitize.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer over the unit,
#                            property and simulator suites and the bus contract on a real
#                            nats-server (nats.c frees what its threads still use when misused:
#                            NatsBus.UnsubscribingWhileTheFlushHelperReadsIsSafe) (build-asan/)
#   tools/sanitize.sh tsan   ThreadSanitizer over the adapters' tests (the executor's hand-over,
#                            Beast's HTTP server and clients, the host's blocking pool), the store
#                            and engine suites on SQLite and Postgres (group commit), the
#                            credential watches, and the bus contract on a real nats-server
#                            (build-tsan/). Not the gRPC adapter: Debian's libgrpc is not built
#                            with TSan, and its threads hand work over through absl locks and
#                            atomics TSan cannot see, so every gRPC test reports races inside
#                            libgrpc (the epoll descriptor, channel arguments, absl's lock graph).
# Under ASan the simulator's sweeps run 8 seeds per scenario (RELIANT_SIM_SEEDS), and the
# determinism tests are left out: the plain build already runs 500 seeds per scenario and checks
# that a seed replays to the same trace; here the point is the memory checks, and every
# scenario's code paths still run. (The determinism tests alone took 23 minutes of CPU under
# ASan; chat_full_topology's 40 runs took 10.) Nor does sim.no_leaks run here: it preloads
# LeakSanitizer into the plain reliant-sim, which this build does not make, and under ASan every
# test checks for leaks already.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-}
case "$kind" in
  asan | tsan) ;;
  *)
    echo "usage: tools/sanitize.sh asan|tsan" >&2
    exit 2
    ;;
esac

export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
dir=build-$kind
sanitizer=$([ "$kind" = asan ] && echo address || echo thread)
# Each tree compiles only what its suites run: the unit, property and simulator suites under ASan,
# the threaded suite (the unit tests whose code runs real threads) under TSan.
library_suites=$([ "$kind" = asan ] && echo ON || echo OFF)
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRELIANT_SANITIZE="$sanitizer" \
  -DRELIANT_LIBRARY_SUITES="$library_suites" >/dev/null

if [ "$kind" = asan ]; then
  cmake --build "$dir" -j"$(nproc)" --target unit_tests property_tests sim_tests nats_tests
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export RELIANT_SIM_SEEDS=${RELIANT_SIM_SEEDS:-8}
  # Each suite runs as whole binaries, $(nproc) gtest shards side by side, not one process per
  # test as CTest runs them: an ASan binary takes about two seconds to start (it maps 670 MB), and
  # started 784 times the suite spent most of its 19 minutes starting. One shard's failure prints
  # its output.
  failed=0
  for suite in unit_tests property_tests sim_tests; do
    shards=$(nproc)
    pids=()
    started=$(date +%s)
    for ((shard = 0; shard < shards; shard++)); do
      GTEST_TOTAL_SHARDS=$shards GTEST_SHARD_INDEX=$shard timeout 1800 "$dir/tests/$suite" \
        --gtest_filter='-*IsDeterministicUnderTwentySeeds*' >"$dir/$suite.shard$shard.log" 2>&1 &
      pids+=($!)
    done
    for ((shard = 0; shard < shards; shard++)); do
      if ! wait "${pids[$shard]}"; then
        failed=1
        echo "== $suite shard $((shard + 1))/$shards FAILED; its output:"
        cat "$dir/$suite.shard$shard.log"
      fi
    done
    ran=$(cat "$dir/$suite".shard*.log | grep -c '^\[       OK \]' || true)
    echo "$suite: $ran tests passed in $shards shards, $(($(date +%s) - started)) s"
  done
  [ "$failed" -eq 0 ] || exit 1
  ctest --test-dir "$dir" --output-on-failure -L nats
else
  cmake --build "$dir" -j"$(nproc)" --target threaded_tests nats_tests store_tests
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tools/tsan.supp"
  # The adapters with real threads (Beast, the executor's hand-over, the blocking pool), the
  # stores, the credential watches, and the bus on nats-server.
  ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" -L 'threaded|store'
  ctest --test-dir "$dir" --output-on-failure -L nats
fi
