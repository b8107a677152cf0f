#!/usr/bin/env bash
# The chaos harness: runs fault scenarios on real processes (reliant roles, nats-server, Postgres,
# the daemon in a network namespace) and prints, per scenario, the simulator's verdict on the
# matching scenarios/*.yaml next to the real cluster's verdict by the same invariant names.
#   tools/chaos/run.sh [--seed N] [--keep] [--list] [SCENARIO...]   (default: all; needs root)
# Exit 0 only if every real verdict holds and every sim sweep passes.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
repo=$PWD
chaos=$repo/tools/chaos
sim=$repo/build/sim/reliant-sim
seed=$RANDOM
keep=0
list=0
wanted=()
while [ $# -gt 0 ]; do
  case $1 in
    --seed) seed=${2:?--seed N}; shift 2 ;;
    --keep) keep=1; shift ;;
    --list) list=1; shift ;;
    -h | --help) sed -n '2,6p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) wanted+=("$1"); shift ;;
  esac
done

# Scenario files are NN_name.sh; the name is what follows the number.
declare -A file_of=()
all=()
for f in "$chaos"/scenarios/[0-9][0-9]_*.sh; do
  name=$(basename "$f" .sh)
  name=${name#[0-9][0-9]_}
  file_of[$name]=$f
  all+=("$name")
done
sim_of() { sed -n 's/^SIM=//p' "${file_of[$1]}"; }
if [ "$list" = 1 ]; then
  for name in "${all[@]}"; do
    printf '%-18s sim: %-26s %s\n' "$name" "$(sim_of "$name").yaml" "$(sed -n '1s/^# Scenario [a-z_]*: //p' "${file_of[$name]}")"
  done
  exit 0
fi
[ ${#wanted[@]} -gt 0 ] || wanted=("${all[@]}")
for name in "${wanted[@]}"; do
  [ -n "${file_of[$name]:-}" ] || { echo "run.sh: no scenario '$name' (see --list)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (network namespaces, Postgres as the postgres user)" >&2; exit 2; }
for bin in "$repo/build/src/app/reliant" "$sim"; do
  [ -x "$bin" ] || { echo "run.sh: $bin is missing (build first)" >&2; exit 2; }
done

started=$SECONDS
echo "chaos: seed $seed (rerun the same choices with --seed $seed); scenarios: ${wanted[*]}"

# Snapshot the binaries: a rebuild replacing build/… mid-run would make a restart exec a missing
# or different binary ("Permission denied" while the linker writes it). Bounded retries.
bin_dir=$(mktemp -d -p /tmp --suffix=.reliant-chaos-bin)
chmod 755 "$bin_dir"
trap 'rm -rf "$bin_dir"' EXIT
for bin in "$repo/build/src/app/reliant" "$sim"; do
  for attempt in $(seq 1 30); do
    cp "$bin" "$bin_dir/" 2>/dev/null && "$bin_dir/$(basename "$bin")" --help >/dev/null 2>&1 && break
    [ "$attempt" = 30 ] && { echo "run.sh: cannot get a working copy of $bin" >&2; exit 2; }
    sleep 2
  done
  echo "chaos: using $bin built $(date -r "$bin" '+%F %T') (copied)"
done
export RELIANT=$bin_dir/reliant
sim=$bin_dir/reliant-sim

# Simulator verdicts first (seconds): one sweep of seeds 1..5 per distinct yaml.
declare -A sim_verdict=()
for name in "${wanted[@]}"; do
  yaml=$(sim_of "$name")
  [ -n "${sim_verdict[$yaml]:-}" ] && continue
  out=$("$sim" sweep "scenarios/$yaml.yaml" --seeds 1..5 --jobs 2 2>&1)
  rc=$?
  passed=$(sed -nE 's/^ *passed +([0-9]+).*/\1/p' <<<"$out")
  if [ "$rc" = 0 ]; then sim_verdict[$yaml]="pass ${passed:-?}/5"; else
    sim_verdict[$yaml]="FAIL ${passed:-0}/5 passed"
    echo "$out" | tail -n 20
  fi
  echo "chaos: sim $yaml.yaml seeds 1..5: ${sim_verdict[$yaml]}"
done

# Real runs, one at a time, each on a fresh cluster in its own directory. The scenario runs in a
# subshell whose EXIT trap tears everything down (processes, namespace, veth, nats, Postgres)
# whatever happens; INT/TERM exit it, so the trap runs on ^C too.
declare -A real_verdict=() took=()
failed=0
for name in "${wanted[@]}"; do
  run_dir=$(mktemp -d -p /tmp --suffix=".reliant-chaos-$name")
  chmod 755 "$run_dir"  # Postgres runs as the postgres user and must reach its data dir
  echo
  echo "=== $name (sim: $(sim_of "$name").yaml) — run dir $run_dir"
  t0=$SECONDS
  (
    trap 'exit 130' INT TERM
    trap 'cluster_down 2>/dev/null' EXIT  # quiet: bash reports each killed job
    RUN=$run_dir SEED=$seed
    source "$chaos/lib.sh"
    source "${file_of[$name]}"
    run_scenario "$name"
  ) 2>&1 | tee "$run_dir/harness.log"
  took[$name]=$((SECONDS - t0))
  verdict=$(sed -n 's/^VERDICT: //p' "$run_dir/harness.log" | tail -n 1)
  real_verdict[$name]=${verdict:-harness error (no verdict; see $run_dir/harness.log)}
  if [ "${real_verdict[$name]}" = "all held" ] && [ "$keep" = 0 ]; then
    rm -rf "$run_dir"
  else
    [ "${real_verdict[$name]}" = "all held" ] || failed=1
    echo "chaos: kept $run_dir"
  fi
done

echo
echo "chaos: seed $seed, $((SECONDS - started)) s"
printf '%-18s | %-42s | %s\n' scenario "sim verdict (reliant-sim sweep, seeds 1..5)" "real verdict (time)"
printf '%-18s-+-%-42s-+-%s\n' ------------------ ------------------------------------------ -------------------
for name in "${wanted[@]}"; do
  yaml=$(sim_of "$name")
  printf '%-18s | %-42s | %s (%d s)\n' "$name" "$yaml: ${sim_verdict[$yaml]}" "${real_verdict[$name]}" "${took[$name]}"
  case ${sim_verdict[$yaml]} in pass*) ;; *) failed=1 ;; esac
done
exit "$failed"
