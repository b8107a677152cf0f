#!/usr/bin/env bash
# `tools/cluster.sh stop DIR` deletes only a directory `cluster.sh start` made: one without the
# marker, with a marker not its own, with files the script never makes, or the home directory
# is refused and left exactly as it was, processes named by its pid files included; `start`
# will not adopt a foreign directory either; a real cluster directory is stopped and deleted.
# Needs no binary and starts nothing but two `sleep`s.
#   cluster_stop_guard.sh CLUSTER_SH
set -euo pipefail
cluster=$1
work=$(mktemp -d)
sleepers=()
cleanup() {
  for pid in "${sleepers[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
sleep 60 &
sleepers+=($!)
live=$!

snapshot() { (cd "$1" && find . -printf '%p %y %s\n' | sort); }
# refused COMMAND DIR WHY [ENV...]: the command fails, says WHY, and DIR and the live process
# named in pid files are untouched.
refused() {
  local command=$1 dir=$2 why=$3 before out
  shift 3
  before=$(snapshot "$dir")
  if out=$(env "$@" "$cluster" "$command" "$dir" 2>&1); then fail "$command $dir succeeded: $out"; fi
  grep -qF "$why" <<<"$out" || fail "$command $dir did not say '$why': $out"
  [ "$before" = "$(snapshot "$dir")" ] || fail "$command $dir changed it"
  kill -0 "$live" 2>/dev/null || fail "$command $dir killed the process of its pid file"
}

marker_text=$(sed -n 's/^marker_text="\(.*\)"$/\1/p' "$cluster")
[ -n "$marker_text" ] || fail "no marker_text in $cluster"

# Someone's project, with a pid file naming a live process.
mkdir -p "$work/project/src"
echo precious >"$work/project/notes.txt"
echo "$live" >"$work/project/server.pid"
refused stop "$work/project" "is not a cluster directory"
(cd "$work" && refused stop project "is not a cluster directory")  # relative to the caller
refused status "$work/project" "is not a cluster directory"
refused start "$work/project" "is not a cluster directory" RELIANT=/bin/true
# A marker file that is not the script's.
echo "my own notes" >"$work/project/.reliant-cluster"
refused stop "$work/project" "is not a cluster directory"

# The script's marker, but also files it never makes.
mkdir -p "$work/almost/workspace"
echo "$marker_text" >"$work/almost/.reliant-cluster"
echo "$live" >"$work/almost/api-1.pid"
echo thesis >"$work/almost/thesis.tex"
refused stop "$work/almost" "thesis.tex"

# The home directory, even when it looks like a cluster directory.
mkdir -p "$work/home"
echo "$marker_text" >"$work/home/.reliant-cluster"
echo "$live" >"$work/home/daemon.pid"
refused stop "$work/home" "refusing to touch" HOME="$work/home"

# A directory `start` made: its processes are stopped and it is deleted.
mkdir -p "$work/cluster/workspace" "$work/cluster/daemon-home"
echo "$marker_text" >"$work/cluster/.reliant-cluster"
echo "DATABASE_URL=postgres://x" >"$work/cluster/cluster.env"
echo "a log line" >"$work/cluster/api-1.log"
sleep 60 &
sleepers+=($!)
echo "$!" >"$work/cluster/api-1.pid"
out=$("$cluster" stop "$work/cluster" 2>&1) || fail "stop of a cluster directory failed: $out"
[ ! -e "$work/cluster" ] || fail "the cluster directory is still there"
for _ in $(seq 1 20); do kill -0 "${sleepers[1]}" 2>/dev/null || break; sleep 0.1; done
kill -0 "${sleepers[1]}" 2>/dev/null && fail "the cluster's process is still running"
[ -e "$work/project/notes.txt" ] && [ -e "$work/almost/thesis.tex" ] || fail "other directories changed"
echo "PASS: cluster.sh stop deletes only its own directories"
