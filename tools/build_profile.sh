#!/usr/bin/env bash
# A cold build's compile cost, per target: configures a build tree of its own, builds it with no
# ccache and a compiler launcher that records each translation unit's CPU seconds (user + system,
# which another load on the machine changes far less than wall time), then prints them summed per
# target, the slowest units, and the build's wall time.
#   tools/build_profile.sh DIR [cmake -D options...] [-- ninja targets...]
# DIR is made (or emptied) for the build; it is a tree of its own, never build/.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: tools/build_profile.sh DIR [cmake options...] [-- targets...]}
shift
cmake_options=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  cmake_options+=("$1")
  shift
done
[ "${1:-}" = "--" ] && shift
targets=("$@")
case "$dir" in build | ./build | build/) echo "build_profile: use a tree of its own, not build/" >&2; exit 2 ;; esac

rm -rf "$dir"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
log=$dir/compile_seconds.tsv
launcher=$dir/timed_compile.sh
cat >"$launcher" <<LAUNCHER
#!/usr/bin/env bash
# Runs one compile, appending "cpu_seconds<TAB>wall_seconds<TAB>output" to $log.
out=unknown
previous=
for arg in "\$@"; do
  [ "\$previous" = "-o" ] && out=\$arg
  previous=\$arg
done
exec /usr/bin/time -a -o "$log" -f "%U+%S	%e	\$out" "\$@"
LAUNCHER
chmod +x "$launcher"
: >"$log"

cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DCMAKE_CXX_COMPILER_LAUNCHER="$launcher" "${cmake_options[@]}" >/dev/null
started=$(date +%s)
CCACHE_DISABLE=1 cmake --build "$dir" -j"$(nproc)" ${targets:+--target "${targets[@]}"} >"$dir/build_profile.log" 2>&1 ||
  { tail -30 "$dir/build_profile.log"; exit 1; }
wall=$(($(date +%s) - started))

python3 - "$log" "$wall" <<'PY'
import collections, re, sys
rows = []
for line in open(sys.argv[1]):
    parts = line.rstrip("\n").split("\t")
    if len(parts) != 3 or "+" not in parts[0]:
        continue  # /usr/bin/time's own notes (a non-zero exit)
    user, system = parts[0].split("+")
    rows.append((float(user) + float(system), float(parts[1]), parts[2]))
per_target = collections.Counter()
units = collections.Counter()
for cpu, _, out in rows:
    m = re.search(r"CMakeFiles/([^/]+)\.dir/", out)
    target = m.group(1) if m else "other"
    per_target[target] += cpu
    units[target] += 1
total = sum(cpu for cpu, _, _ in rows)
print(f"{len(rows)} units, {total:.0f} compile CPU seconds, build wall {sys.argv[2]} s")
print("per target (CPU s, units):")
for target, cpu in per_target.most_common():
    print(f"  {target:28} {cpu:8.1f} {units[target]:5}")
print("slowest units (CPU s):")
for cpu, _, out in sorted(rows, reverse=True)[:15]:
    print(f"  {cpu:6.1f}  {out}")
PY
