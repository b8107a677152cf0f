#!/usr/bin/env bash
# The daemon's management commands on a real process, with HOME in a scratch folder: the gateway
# derived from --server (or RELIANT_SERVER_URL; refused for an address), --gateway and
# RELIANT_GATEWAY_URL; `daemon start --token --user-id --background` (the credentials saved with
# the user, the process detached, its log written); `status` (exit 0 running, 3 not);
# `logs` and `logs --follow`; `stop` and `stop --force`. The gateway it dials is a loopback port
# nothing listens on, so the daemon keeps retrying and logging, and no traffic leaves the machine.
#   daemon_cli.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
source "$(dirname "$0")/../../tools/ports.sh"
work=$(mktemp -d)
export HOME=$work/home XDG_CONFIG_HOME=$work/home/.config
unset RELIANT_SERVER_URL RELIANT_GATEWAY_URL RELIANT_USER_ID
mkdir -p "$HOME" "$work/ws"
cleanup() {
  "$reliant" daemon stop --force >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  [ -f "$HOME/.reliant/daemon.log" ] && tail -n 20 "$HOME/.reliant/daemon.log"
  exit 1
}
status_of() {  # `daemon status`: its exit status in $code, its output in $out
  code=0
  out=$("$reliant" daemon status "$@" 2>&1) || code=$?
}

# 1. Where a daemon would dial, without starting one.
status_of --server https://reliant.example.com
[ "$code" = 3 ] || fail "status of a daemon that is not running exited $code: $out"
grep -q "^daemon: *not running" <<<"$out" || fail "status: $out"
grep -qF "gateway:     https://gateway.reliant.example.com (derived from the server)" <<<"$out" ||
  fail "the derived gateway: $out"
out=$(RELIANT_SERVER_URL=http://api.example.com:8080/v1 "$reliant" daemon status 2>&1 || true)
grep -qF "gateway:     http://gateway.api.example.com:8080 (derived" <<<"$out" ||
  fail "RELIANT_SERVER_URL with a port and a path: $out"
out=$("$reliant" daemon status --server https://127.0.0.1:8080 2>&1 || true)
grep -qF "cannot derive a gateway from --server https://127.0.0.1:8080" <<<"$out" ||
  fail "an address gave a gateway: $out"
port=$(free_port_block 1)
gateway="http://127.0.0.1:$port"
out=$(RELIANT_GATEWAY_URL=$gateway "$reliant" daemon status --server https://127.0.0.1:8080 2>&1 || true)
grep -qF "gateway:     $gateway" <<<"$out" && ! grep -q "derived" <<<"$out" ||
  fail "RELIANT_GATEWAY_URL: $out"

# 2. Start refuses what it cannot dial, before anything runs.
if out=$(echo "rlnt_pat_$(printf 'A%.0s' $(seq 43))" |
  "$reliant" daemon start --token --server https://[::1]:8080 2>&1); then
  fail "a daemon started with no gateway to dial: $out"
fi
grep -qF "give --gateway" <<<"$out" || fail "the refusal: $out"

# 3. In the background, for one user.
token="rlnt_pat_$(printf 'B%.0s' $(seq 43))"
echo "$token" | RELIANT_USER_ID=u-dev "$reliant" daemon start --token --gateway "$gateway" \
  --tls-mode h2c --working-dir "$work/ws" --backoff-max 1 --background >"$work/start.log" 2>&1 ||
  fail "start --background: $(cat "$work/start.log")"
credentials=$XDG_CONFIG_HOME/reliant/auth/reliant-daemon.json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["user_id"] == "u-dev", d' \
  "$credentials" || fail "the credentials do not name the user: $(cat "$credentials")"
[ "$(stat -c %a "$credentials")" = 600 ] || fail "credentials readable by others"
status_of
[ "$code" = 0 ] || fail "status of a running daemon exited $code: $out"
pid=$(sed -n 's/^daemon: *running (pid \([0-9]*\))$/\1/p' <<<"$out")
[ -n "$pid" ] && kill -0 "$pid" || fail "no running pid in: $out"
# Its own session (setsid): field 6 of /proc/PID/stat is the session id.
[ "$(cut -d' ' -f6 "/proc/$pid/stat")" = "$pid" ] || fail "the daemon did not detach (setsid)"

# 4. Its log, then new lines as they come (each failed dial is one).
for _ in $(seq 1 50); do grep -q "gateways: $gateway" "$HOME/.reliant/daemon.log" 2>/dev/null && break; sleep 0.1; done
out=$("$reliant" daemon logs -n 200) || fail "logs: $out"
grep -qF "gateways: $gateway" <<<"$out" || fail "the log: $out"
before=$(wc -l <"$HOME/.reliant/daemon.log")
"$reliant" daemon logs --follow -n 0 >"$work/follow.log" 2>&1 &
follower=$!
for _ in $(seq 1 60); do
  [ "$(wc -l <"$work/follow.log")" -gt 0 ] && break
  sleep 0.1
done
kill "$follower" 2>/dev/null || true
wait "$follower" 2>/dev/null || true
[ -s "$work/follow.log" ] || fail "logs --follow printed nothing new (log had $before lines)"
grep -q "$port" "$work/follow.log" || fail "logs --follow printed: $(cat "$work/follow.log")"

# 5. stop, then stop --force.
out=$("$reliant" daemon stop) || fail "stop: $out"
grep -qF "daemon (pid $pid) stopped" <<<"$out" || fail "stop said: $out"
! kill -0 "$pid" 2>/dev/null || fail "the daemon still runs after stop"
status_of
[ "$code" = 3 ] || fail "status after stop exited $code: $out"
"$reliant" daemon start --gateway "$gateway" --tls-mode h2c --working-dir "$work/ws" \
  --background >"$work/start.log" 2>&1 || fail "start again: $(cat "$work/start.log")"
status_of
pid=$(sed -n 's/^daemon: *running (pid \([0-9]*\))$/\1/p' <<<"$out")
[ -n "$pid" ] || fail "not running again: $out"
out=$("$reliant" daemon stop --force) || fail "stop --force: $out"
! kill -0 "$pid" 2>/dev/null || fail "the daemon survived stop --force"
out=$("$reliant" daemon stop) || fail "stopping a stopped daemon: $out"
grep -qF "not running" <<<"$out" || fail "stop of nothing said: $out"
echo "daemon_cli: ok"
