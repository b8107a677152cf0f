#!/usr/bin/env bash
# Leaks in the simulator, without a sanitized build: one seed of a scenario per workload through
# `reliant-sim run` with GCC's LeakSanitizer preloaded. A workload's leak (e.g. a closure that
# holds itself through a shared_ptr) grows with every seed of a sweep; the ASan build finds it
# too (tools/sanitize.sh asan), but only when someone runs that.
set -euo pipefail
sim=$1 scenarios=$2
lsan=$(gcc -print-file-name=liblsan.so)
if [ ! -e "$lsan" ]; then
  echo "no LeakSanitizer runtime at '$lsan' (Debian: liblsan0, with gcc)" >&2
  exit 1
fi
status=0
for scenario in echo_under_faults engine_worker_crash tools_auth_recovery chat_worker_crashes; do
  if out=$(LD_PRELOAD="$lsan" LSAN_OPTIONS=exitcode=23 "$sim" run "$scenarios/$scenario.yaml" --seed 1 2>&1); then
    echo "ok   $scenario: no leaks"
  else
    echo "FAIL $scenario:"
    printf '%s\n' "$out" | grep -A12 -E 'leak of|invariants' | head -30
    status=1
  fi
done
exit $status
