#!/usr/bin/env bash
# Clients nobody here wrote, against our interfaces on real processes: a grpc-js daemon on the
# gateway's ToolsDaemonService (it registers with a PAT and serves tool calls that
# `reliant tool call` routes to it), and the nats npm client sending a JSON ToolRequest that a
# real `reliant daemon` serves through the gateway.
#   interop.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
here=$(cd "$(dirname "$0")" && pwd)
interop=$here/../interop
proto=$here/../../proto/reliant/daemon/v1/daemon.proto
[ -d "$interop/node_modules/@grpc/grpc-js" ] || { echo "FAIL: run: npm ci --prefix tests/interop"; exit 1; }
source "$here/lib.sh"
integration_setup interop
"$reliant" admin user create --email js@example.com --db-url "$url" >/dev/null
"$reliant" admin user create --email native@example.com --db-url "$url" >/dev/null
token_js=$("$reliant" admin token create --user js@example.com --db-url "$url" | tail -n 1)
token_native=$("$reliant" admin token create --user native@example.com --db-url "$url" | tail -n 1)
port=$(free_port_block 3)
start_gateway gw "$port"

# 1. grpc-js as the daemon.
node "$interop/grpc_daemon.mjs" "$proto" "127.0.0.1:$port" "$token_js" >"$work/grpc-js.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "^registered" "$work/grpc-js.log" && break; sleep 0.1; done
grep -q "^registered" "$work/grpc-js.log" || fail "the grpc-js daemon did not register"
for mode in --sync ""; do
  out=$("$reliant" tool call --db-url "$url" --nats-url "$nats_url" --user js@example.com \
    --daemon '{"labels":{"impl":"grpc-js"}}' --tool bash --input '{"command":"uname"}' $mode 2>"$work/call.log") ||
    fail "tool call to the grpc-js daemon ($mode): $out"
  grep -q 'grpc-js ran bash with {\\"command\\":\\"uname\\"}' <<<"$out" || fail "unexpected answer: $out"
done
echo "grpc-js daemon: registered over ConnectDaemon and served sync and durable tool calls"
# A grpc-js daemon with a wrong token is refused with a reason.
set +e
timeout 10 node "$interop/grpc_daemon.mjs" "$proto" "127.0.0.1:$port" \
  "rlnt_pat_0000000000000000000000000000000000000000000" >"$work/refused.log" 2>&1
set -e
grep -q "refused unauthenticated" "$work/refused.log" || fail "a wrong token was not refused: $(cat "$work/refused.log")"

# 2. the nats npm client routing a tool request to a real daemon.
mkdir -p "$work/home"
echo "$token_native" | HOME="$work/home" "$reliant" daemon start --token --name native \
  --grpc-url "http://127.0.0.1:$port" --working-dir "$work" >"$work/daemon.log" 2>&1 &
pids+=($!)
user_id=$(q "SELECT id FROM users WHERE email = 'native@example.com'")
for _ in $(seq 1 100); do
  daemon_id=$(q "SELECT id FROM daemons WHERE user_id = '$user_id' AND status = 'active'")
  [ -n "$daemon_id" ] && break
  sleep 0.1
done
[ -n "$daemon_id" ] || fail "the native daemon did not connect"
out=$(node "$interop/nats_tool_request.mjs" "$nats_url" "$user_id" "$daemon_id") || fail "nats.js request: $out"
echo "nats.js: $out"
# Another user's id in the subject never reaches this daemon: nobody answers.
js_user=$(q "SELECT id FROM users WHERE email = 'js@example.com'")
set +e
node "$interop/nats_tool_request.mjs" "$nats_url" "$js_user" "$daemon_id" 3000 >"$work/cross.log" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] || fail "a request under another user's subject reached the daemon"
echo "PASS"
