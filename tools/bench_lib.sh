# Shared by the benchmarks tools/bench_*.sh and tools/chat_profile.sh (sourced, after their `cd`
# to the checkout): the build directory, their smoke mode, and what processes spent.
#   RELIANT_BUILD_DIR   the build directory the binaries come from (default: build; a relative
#                       path is the checkout's)
#
# `tools/bench_X.sh --smoke` runs the benchmark's own steps — the same binaries, peers and
# fixtures — a few iterations each, as the test suite does (bench.*_smoke, tests/bench): a
# benchmark nobody runs rots unnoticed. A smoke run builds nothing (the suite has built
# everything, and two builds of one tree must not race; a missing binary is an error), and fails
# with a message on any error: a benchmark or peer that exits non-zero, a result missing or
# unparseable, no operation completed, a failure the benchmark counted. Never on a time or a
# ratio: a shared 2-core machine holds no figure steady. The checks below do nothing outside smoke
# mode, where the scripts print what they measured as they always have.
# shellcheck shell=bash

build=$(realpath -m "${RELIANT_BUILD_DIR:-build}")  # absolute, for the tools it is handed to
bench_name=$(basename "$0" .sh)
smoke=""

# The script's first argument was --smoke (the rest are ARGs: there must be none, since a smoke
# run has its own sizes): from here on, every command that fails (as `set -e` sees it) is
# reported with its line before the script exits, and the checks below apply.
smoke_mode() {  # ARG...
  if [ $# -gt 0 ]; then
    echo "$bench_name: --smoke takes no other argument (got: $*)" >&2
    exit 2
  fi
  smoke=1
  set -E  # the report from inside functions and command substitutions too
  trap 'smoke_failed_command $? $LINENO "$BASH_COMMAND"' ERR
}

smoke_fail() {  # MESSAGE...
  echo "$bench_name --smoke: FAIL: $*" >&2
  exit 1
}

smoke_failed_command() {  # STATUS LINE COMMAND
  # In a command substitution, only its status: the command that ran it reports, once.
  [ "$BASH_SUBSHELL" -eq 0 ] || exit "$1"
  smoke_fail "line $2: \`$3\` exited $1"
}

# Fails unless each PATH is an executable file. Smoke mode only: there the suite has built
# everything, and a benchmark's script building its binary would race with the suite's build.
smoke_need() {  # PATH...
  [ -n "$smoke" ] || return 0
  local path
  for path in "$@"; do
    [ -x "$path" ] || smoke_fail "$path is missing: build it first (cmake --build $build)"
  done
}

# Fails unless TEXT has a line matching the extended regex PATTERN; WHAT names the output.
smoke_expect() {  # TEXT PATTERN WHAT
  [ -n "$smoke" ] || return 0
  grep -qE -- "$2" <<<"$1" || smoke_fail "$3: no line matching /$2/ in its output:
$1"
}

# Fails unless VALUE is a finite number above zero; WHAT names it.
smoke_positive() {  # VALUE WHAT
  [ -n "$smoke" ] || return 0
  python3 -c 'import math, sys; v = float(sys.argv[1]); sys.exit(0 if math.isfinite(v) and v > 0 else 1)' \
    "$1" 2>/dev/null || smoke_fail "$2: expected a number above zero, got '$1'"
}

# Fails unless JSON is one JSON object of latencies, {n, p50_us, p99_us, …}, with n == COUNT:
# what the peers and bench_mcp print. WHAT names the program.
smoke_latencies() {  # JSON COUNT WHAT
  [ -n "$smoke" ] || return 0
  python3 -c '
import json, sys
try:
    result = json.loads(sys.argv[1])
    ok = result["n"] == int(sys.argv[2]) and all(
        isinstance(result[k], (int, float)) for k in ("p50_us", "p99_us"))
except (ValueError, KeyError, TypeError):
    ok = False
sys.exit(0 if ok else 1)
' "$1" "$2" || smoke_fail "$3: expected {\"n\": $2, \"p50_us\": …, \"p99_us\": …}, got '$1'"
}

# Fails unless the user whose token is TOKEN has chats at API and none of them ended failed: a
# benchmark that times chats would count a failed run's answer as one. WHAT names the server.
smoke_no_failed_chat() {  # API TOKEN WHAT
  [ -n "$smoke" ] || return 0
  local listed problem
  listed=$(curl -sf -H "Authorization: Bearer $2" "$1/api/v1/chats") ||
    smoke_fail "$3: GET /api/v1/chats failed"
  problem=$(python3 -c '
import json, sys
chats = json.loads(sys.argv[1])["chats"]
failed = [c["id"] for c in chats if c["status"] == "failed"]
print("no chats" if not chats else f"{len(failed)} of its {len(chats)} chats failed" if failed else "")
' "$listed") || smoke_fail "$3: GET /api/v1/chats answered '$listed'"
  [ -z "$problem" ] || smoke_fail "$3: $problem"
}

smoke_passed() {
  [ -n "$smoke" ] || return 0
  echo "$bench_name --smoke: ok"
}

# What processes spent so far, summed over PIDs (a process gone counts nothing): CPU in clock
# ticks (utime + stime, getconf CLK_TCK a second), and context switches, voluntary or not, over
# all its threads (each a thread woken or put aside).
cpu_ticks() {  # PID...
  local pid
  for pid in "$@"; do awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || true; done |
    awk '{ s += $1 } END { print s + 0 }'
}
context_switches() {  # PID...
  local pid
  for pid in "$@"; do cat /proc/"$pid"/task/*/status 2>/dev/null || true; done |
    awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'
}

# For a script that measures builds on fresh clusters in DIR, in alternating rounds: bench_chat
# (built when missing) as $bench, the cluster stopped when the script exits, the load printed.
cluster_rounds() {  # DIR
  bench=$build/tests/bench/bench_chat
  [ -x "$bench" ] || cmake --build "$build" --target bench_chat -j"$(nproc)" >/dev/null
  cluster_dir=$1
  trap 'tools/cluster.sh stop "$cluster_dir" >/dev/null 2>&1 || true' EXIT
  echo "load: $(uptime | sed 's/.*load/load/')"
}

# A fresh tools/cluster.sh of RELIANT in DIR (one left there is stopped first), with its
# cluster.env sourced: API_1, TOKEN, DATABASE_URL and the rest.
fresh_cluster() {  # DIR RELIANT
  tools/cluster.sh stop "$1" >/dev/null 2>&1 || true
  RELIANT=$2 tools/cluster.sh start "$1" >/dev/null
  # shellcheck disable=SC1091
  source "$1/cluster.env"
}
