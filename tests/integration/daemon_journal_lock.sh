#!/usr/bin/env bash
# One tools daemon per user and machine: `reliant daemon start` holds a lock on its request
# journal (~/.reliant/daemon-requests.journal.lock) for its whole life, so a second daemon of
# the same home is refused — even when the PID file, the first check, is gone — and a kill -9
# leaves no stale lock: the next start runs. No gateway is needed: the daemons keep retrying an
# address nothing listens on.
#   daemon_journal_lock.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -n 20 "$f"; done
  exit 1
}
token=rlnt_pat_0000000000000000000000000000000000000000000
lock="$work/home/.reliant/daemon-requests.journal.lock"
mkdir -p "$work/home" "$work/ws"
# start_daemon NAME: in the background; its pid is $last_pid.
start_daemon() {
  echo "$token" | HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" \
    "$reliant" daemon start --token --name "$1" --grpc-url http://127.0.0.1:9 \
    --working-dir "$work/ws" >"$work/$1.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
}
# wait_holder PID: until the journal's lock file names PID (5 s at most).
wait_holder() {
  for _ in $(seq 1 50); do
    [ "$(cat "$lock" 2>/dev/null || true)" = "$1" ] && return 0
    kill -0 "$1" 2>/dev/null || fail "daemon $1 exited: $(cat "$work"/*.log)"
    sleep 0.1
  done
  fail "daemon $1 does not hold the journal's lock"
}

start_daemon first
first=$last_pid
wait_holder "$first"
[ "$(stat -c %a "$lock")" = 600 ] || fail "the lock file is $(stat -c %a "$lock"), not 600"
# Without the PID file `daemon start` does not know of the first daemon: only the lock stops it.
rm -f "$work/home/.reliant/daemon.pid"
if second=$(echo "$token" | HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" \
  timeout 20 "$reliant" daemon start --token --name second --grpc-url http://127.0.0.1:9 \
  --working-dir "$work/ws" 2>&1); then
  fail "a second daemon ran on the same journal: $second"
fi
grep -qF "another reliant process (pid $first) is using the request journal" <<<"$second" \
  || fail "the second daemon did not say why it stopped: $second"
kill -0 "$first" 2>/dev/null || fail "the first daemon died"

# kill -9 leaves nothing behind: the next daemon starts and takes the lock.
kill -9 "$first"
wait "$first" 2>/dev/null || true
start_daemon third
wait_holder "$last_pid"
sleep 1
kill -0 "$last_pid" 2>/dev/null || fail "the daemon started after the kill -9 did not stay up"
echo "PASS: one daemon per journal; a kill -9 leaves no stale lock"
