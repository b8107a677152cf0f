#!/usr/bin/env bash
# Ports-only lint (docs/architecture.md §2): component and simulator code must do no I/O of its own
# — no real clocks, threads, OS randomness, sockets, files, processes or environment. Scans
# src/core, src/services and sim/ (except sim/cli/, the simulator's command-line edge).
# Rules for all of src/ and sim/ (sim/cli/ included): no std::regex, whose backtracking takes
# exponential time on patterns such as (x+x+)+y — RE2 matches in linear time (issue 38).
# And the texture (tools/texture.py, issue 39): no file over 800 lines, no function over 70, every
# C++ file clang-format clean, except what tools/texture_baseline.txt lists, which only shrinks.
#   tools/lint.sh [REPO_ROOT]     lint the tree; exit 1 and list file:line: rule on violations
#   tools/lint.sh --self-test     prove each rule fires on a planted violation
set -uo pipefail

# rule name | extended regex
rules=(
  "real clock|std::chrono::(system_clock|steady_clock|high_resolution_clock)|\\b(gettimeofday|clock_gettime|localtime|gmtime)\\s*\\(|\\bstd::time\\s*\\(|\\btime\\s*\\(\\s*(NULL|nullptr|0)\\s*\\)"
  "thread or lock|#include\\s*<(thread|mutex|shared_mutex|condition_variable|future|semaphore)>|\\bstd::(thread|jthread|async|mutex)\\b|\\bpthread_|\\bsleep_for\\b|\\busleep\\s*\\("
  "OS randomness|#include\\s*<random>|\\brandom_device\\b|(^|[^.>_[:alnum:]])(s?rand|drand48|lrand48|arc4random|getrandom)\\s*\\("
  "socket or network library|#include\\s*<(sys/socket\\.h|netinet/|arpa/inet\\.h|netdb\\.h)|#include\\s*[<\"](boost/asio|boost/beast|grpc|grpcpp|nats|pqxx|libpq)"
  "file I/O|#include\\s*<(fstream|filesystem|unistd\\.h|fcntl\\.h|dirent\\.h|sys/stat\\.h)>|\\b(fopen|freopen|fwrite|fread|fgets|opendir|mkdir|unlink)\\s*\\(|\\bstd::(ifstream|ofstream|fstream|filesystem)\\b"
  "process or environment|\\b(fork|execv|execvp|execve|posix_spawn|popen|system|getenv|setenv)\\s*\\("
)
everywhere_rules=(
  "std::regex (use RE2)|#include\\s*<regex>|\\bstd::[a-z_]*regex"
)

check() {  # check ROOT FILE RULE...: prints FILE's violations of the RULEs, returns 1 if any
  local root=$1 file=$2 found=0
  shift 2
  for rule in "$@"; do
    local name=${rule%%|*} pattern=${rule#*|}
    # Strip // comments first so prose may name what it forbids.
    while IFS= read -r hit; do
      [ -n "$hit" ] || continue
      echo "${file#"$root"/}:${hit%%:*}: $name: ${hit#*:}"
      found=1
    done < <(sed 's://.*$::' "$file" | grep -nE "$pattern" || true)
  done
  return $found
}

scan() {  # scan ROOT: prints violations, returns 1 if any
  local root=$1 found=0
  local dirs=() everywhere=()
  for d in src/core src/services sim; do [ -d "$root/$d" ] && dirs+=("$root/$d"); done
  for d in src sim; do [ -d "$root/$d" ] && everywhere+=("$root/$d"); done
  [ ${#dirs[@]} -gt 0 ] || { echo "lint: nothing to scan under $root"; return 2; }
  while IFS= read -r file; do
    check "$root" "$file" "${rules[@]}" || found=1
  done < <(find "${dirs[@]}" -path "$root/sim/cli" -prune -o -type f \( -name '*.h' -o -name '*.cc' \) -print | sort)
  while IFS= read -r file; do
    check "$root" "$file" "${everywhere_rules[@]}" || found=1
  done < <(find "${everywhere[@]}" -type f \( -name '*.h' -o -name '*.cc' \) -print | sort)
  return $found
}

if [ "${1:-}" = "--self-test" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/src/core" "$tmp/sim/cli"
  echo 'int ok() { return 1; }  // std::thread in a comment is fine' > "$tmp/src/core/clean.cc"
  echo '#include <fstream>' > "$tmp/sim/cli/main.cc"  # the CLI edge is exempt
  scan "$tmp" >/dev/null || { echo "self-test FAILED: clean tree flagged"; exit 1; }
  planted=(
    "auto t = std::chrono::steady_clock::now();"
    "std::thread worker([]{});"
    "int x = rand();"
    "#include <sys/socket.h>"
    "std::ifstream in(\"x\");"
    "const char* home = getenv(\"HOME\");"
  )
  status=0
  for i in "${!planted[@]}"; do
    echo "${planted[$i]}" > "$tmp/src/core/bad.cc"
    if out=$(scan "$tmp"); then
      echo "self-test FAILED: rule ${rules[$i]%%|*} missed: ${planted[$i]}"; status=1
    else
      echo "self-test ok: $out"
    fi
  done
  rm -f "$tmp/src/core/bad.cc"
  # The rules for everywhere reach the adapters and the simulator's command-line edge too.
  mkdir -p "$tmp/src/adapters/host"
  planted_everywhere=(
    "src/adapters/host/bad.cc|#include <regex>"
    "sim/cli/bad.cc|  std::regex pattern(\"(x+x+)+y\");"
    "src/app/bad.cc|bool hit = std::regex_search(text, pattern);"
  )
  for planted in "${planted_everywhere[@]}"; do
    file=${planted%%|*}
    mkdir -p "$(dirname "$tmp/$file")"
    echo "${planted#*|}" > "$tmp/$file"
    if out=$(scan "$tmp"); then
      echo "self-test FAILED: rule ${everywhere_rules[0]%%|*} missed in $file: ${planted#*|}"; status=1
    else
      echo "self-test ok: $out"
    fi
    rm -f "$tmp/$file"
  done
  # The texture rules (file and function sizes, clang-format) prove themselves too.
  python3 "$(dirname "$0")/texture.py" self-test || status=1
  exit $status
fi

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
status=0
if scan "$root"; then
  echo "lint: ok (no I/O outside the ports in src/core, src/services, sim; no std::regex in src, sim)"
else
  echo "lint: FAILED — component and simulator code must use the ports (docs/architecture.md §2)"
  status=1
fi
if python3 "$(dirname "$0")/texture.py" check "$root"; then
  echo "lint: ok (no file over 800 lines, no function over 70, clang-format clean, but those listed in tools/texture_baseline.txt, none grown)"
else
  echo "lint: FAILED — texture (tools/texture.py): shrink it, or split it along its seams"
  status=1
fi
exit $status
