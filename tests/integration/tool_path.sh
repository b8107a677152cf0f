#!/usr/bin/env bash
# Real binaries on loopback: nats-server and Postgres (the project's fixtures), two gateways, two
# daemons of one user with different labels. `reliant tool call` runs bash on the daemon its
# selector picks, synchronously and durably; then the gateway holding one daemon is killed with
# SIGKILL: that daemon reconnects to the other gateway (the daemons rotate through both URLs),
# its recorded status follows, and tool calls keep succeeding. Also: a wrong token is refused
# and the daemon says why; a call to a user without daemons fails precisely.
#   tool_path.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
integration_setup tools
"$reliant" admin user create --email dev@example.com --db-url "$url" >/dev/null
token_a=$("$reliant" admin token create --user dev@example.com --name laptop --db-url "$url" | tail -n 1)
token_b=$("$reliant" admin token create --user dev@example.com --name build-box --db-url "$url" | tail -n 1)

base=$(free_port_block 60)
gw_urls=""
for g in 1 2; do
  daemon_port=$((base + 10 * g))
  start_gateway "gw$g" "$daemon_port" --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
  eval "pid_gw$g=$last_pid"
  gw_urls="$gw_urls${gw_urls:+,}http://127.0.0.1:$daemon_port"
done

# Two daemons of the same user, each with its own HOME (credentials, daemon.json, journal).
start_daemon() {  # NAME TOKEN LABELS
  mkdir -p "$work/$1"
  echo "$2" | HOME="$work/$1" "$reliant" daemon start --token --name "$1" --labels "$3" \
    --grpc-url "$gw_urls" --working-dir "$work/$1" --heartbeat-interval 1 --stale-timeout 3 \
    --backoff-max 1 >"$work/$1.log" 2>&1 &
  pids+=($!)
  daemon_pid[$1]=$!
}
declare -A daemon_pid
start_daemon laptop "$token_a" role=dev
start_daemon build-box "$token_b" role=build
for _ in $(seq 1 100); do
  [ "$(q "SELECT COUNT(*) FROM daemons WHERE status = 'active'")" -eq 2 ] && break
  sleep 0.1
done
[ "$(q "SELECT COUNT(*) FROM daemons WHERE status = 'active'")" -eq 2 ] || fail "daemons not active"

call() {  # SELECTOR COMMAND [--sync]
  "$reliant" tool call --db-url "$url" --nats-url "$nats_url" --user dev@example.com \
    --daemon "$1" --tool bash --input "{\"command\":\"$2\"}" --timeout 10 ${3:-} 2>>"$work/calls.log"
}
out=$(call '{"labels":{"role":"build"}}' 'echo hi from $(basename $PWD)' --sync) || fail "sync call: $out"
grep -q '"content": "hi from build-box\\n"' <<<"$out" || fail "the build daemon did not answer: $out"
out=$(call laptop 'echo durable on $(basename $PWD)') || fail "durable call: $out"
grep -q '"content": "durable on laptop\\n"' <<<"$out" || fail "the laptop daemon did not answer: $out"
echo "tool calls reach the selected daemons (sync and durable)"

# Kill -9 the gateway holding the build daemon; it must come back through the other gateway.
build_id=$(q "SELECT id FROM daemons WHERE name = 'build-box'")
holder=$(q "SELECT gateway_id FROM daemons WHERE id = '$build_id'")
victim_pid=$(eval echo "\$pid_$holder")
kill -9 "$victim_pid"
echo "killed gateway $holder (pid $victim_pid), which held build-box"
moved=""
for _ in $(seq 1 100); do
  now=$(q "SELECT gateway_id || ' ' || status FROM daemons WHERE id = '$build_id'")
  if [ "${now%% *}" != "$holder" ] && [ "${now#* }" = "active" ]; then moved=$now; break; fi
  sleep 0.1
done
[ -n "$moved" ] || fail "build-box did not reconnect to the surviving gateway (now: $now)"
echo "build-box reconnected: $moved"
for i in 1 2 3; do
  out=$(call '{"labels":{"role":"build"}}' "echo after failover $i" --sync) || fail "sync call $i after failover: $out"
  grep -q "after failover $i" <<<"$out" || fail "wrong answer after failover: $out"
  out=$(call build-box "echo durable after failover $i") || fail "durable call $i after failover: $out"
  grep -q "durable after failover $i" <<<"$out" || fail "wrong answer after failover: $out"
done
echo "tool calls keep succeeding after the failover"

# Nothing ran twice: every request id appears once in the durable table.
dupes=$(q "SELECT COUNT(*) FROM (SELECT request_id FROM tool_requests GROUP BY request_id HAVING COUNT(*) > 1) d")
[ "$dupes" -eq 0 ] || fail "$dupes duplicated tool requests"
open=$(q "SELECT COUNT(*) FROM tool_requests WHERE status <> 'completed'")
[ "$open" -eq 0 ] || fail "$open durable requests left open"

# A managed cloud daemon: no credentials; provisioned, then dialed by a gateway on command. It
# serves only the gateways that show its dial key, which `admin daemon connect` tells them.
pod_id=$("$reliant" admin daemon provision --user dev@example.com --name pod --db-url "$url")
pod_key=$("$reliant" admin daemon dial-key --daemon "$pod_id" --db-url "$url")
pod_port=$((base + 50))
mkdir -p "$work/pod"
HOME="$work/pod" RELIANT_DIAL_KEY="$pod_key" "$reliant" daemon start --managed --port "$pod_port" \
  --name pod --working-dir "$work/pod" --heartbeat-interval 1 --stale-timeout 3 \
  >"$work/pod.log" 2>&1 &
pids+=($!)
sleep 0.5
"$reliant" admin daemon connect --nats-url "$nats_url" --daemon "$pod_id" \
  --address "http://127.0.0.1:$pod_port" --db-url "$url" >/dev/null
for _ in $(seq 1 100); do
  [ "$(q "SELECT status FROM daemons WHERE id = '$pod_id'")" = "active" ] && break
  sleep 0.1
done
out=$(call cloud 'echo from the pod' --sync) || fail "call to the managed daemon: $out"
grep -q '"content": "from the pod\\n"' <<<"$out" || fail "the managed daemon did not answer: $out"
timeout 20 node "$(dirname "$0")/../interop/grpc_stranger.mjs" \
  "$(dirname "$0")/../../proto/reliant/daemon/v1/daemon.proto" "127.0.0.1:$pod_port" \
  >"$work/stranger.out" 2>&1 || fail "a stranger without the dial key: $(cat "$work/stranger.out")"
grep -q "without a dial key" "$work/pod.log" && fail "the pod says it has no dial key"
echo "managed daemon: dialed by a gateway on command with its dial key, serving calls; a stranger refused"

# Bad input: a wrong token is refused (the daemon deletes it and says what to do); no daemon
# for the user → a precise error and exit code 2.
mkdir -p "$work/intruder"
set +e
echo "rlnt_pat_0000000000000000000000000000000000000000000" | HOME="$work/intruder" \
  timeout 20 "$reliant" daemon start --token --grpc-url "$gw_urls" >"$work/intruder.log" 2>&1
code=$?
set -e
[ "$code" -eq 1 ] || fail "a daemon with a wrong token exited with $code"
grep -q "cannot register again without a login" "$work/intruder.log" || fail "no precise error for a wrong token"
"$reliant" admin user create --email nobody@example.com --db-url "$url" >/dev/null
set +e
err=$("$reliant" tool call --db-url "$url" --nats-url "$nats_url" --user nobody@example.com \
  --tool bash --input '{"command":"true"}' 2>&1)
code=$?
set -e
[ "$code" -eq 2 ] || fail "a call for a user without daemons exited with $code: $err"
grep -q "no daemon" <<<"$err" || fail "unclear error for a user without daemons: $err"

# Revocation reaches a connected daemon: its token is revoked (by the admin command, which has
# no bus to announce it on: the gateway's re-check with every lease renewal finds it) while a
# tool of it runs. The stream ends within a few seconds, the running tool and everything it
# started stop, and the daemon, which cannot register again without a login, stops and says so.
# This test's daemon, not another's of the same name (tests run side by side: the chaos tools
# start a "laptop" too).
laptop_pid=${daemon_pid[laptop]}
"$reliant" tool call --db-url "$url" --nats-url "$nats_url" --user dev@example.com --daemon laptop \
  --tool bash --input '{"command":"setsid sh -c \"exec sleep 311\" & exec sleep 312"}' --timeout 60 \
  >"$work/revoked-call.out" 2>&1 &
pids+=($!)
# -x: the whole command line, so the tool call client (whose arguments quote both) is not counted.
for _ in $(seq 1 100); do [ "$(pgrep -fxc 'sleep 31[12]')" = 2 ] && break; sleep 0.1; done
[ "$(pgrep -fxc 'sleep 31[12]')" = 2 ] || fail "the long tool did not start on laptop"
laptop_token=$(q "SELECT id FROM personal_access_tokens WHERE name = 'laptop'")
revoked_at=$(date +%s)
"$reliant" admin token revoke "$laptop_token" --db-url "$url" >/dev/null
for _ in $(seq 1 150); do pgrep -fx 'sleep 31[12]' >/dev/null || break; sleep 0.1; done
pgrep -fxa 'sleep 31[12]' && fail "the revoked daemon's tool still runs $(($(date +%s) - revoked_at)) s after the revocation"
for _ in $(seq 1 100); do kill -0 "$laptop_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$laptop_pid" 2>/dev/null && fail "the daemon whose token was revoked still runs"
grep -q "revoked" "$work/laptop.log" || fail "the daemon did not say its token was revoked"
echo "revocation: the daemon's stream, its running tool and the daemon itself ended in $(($(date +%s) - revoked_at)) s"
echo "PASS"
