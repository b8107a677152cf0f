#!/usr/bin/env bash
# A daemon's own services on the distributed topology, real processes on loopback: Postgres and
# nats-server (the fixtures), two gateways, one daemon connected to gateway A, and two apis.
# Each api reaches the daemon through the bus, where only the gateway holding it answers: its
# files are written through one api and read through the other, its background processes
# listed, and a terminal on it is opened, typed into, resized, left and re-attached over the
# api's WebSocket (the `ws` npm client) — whichever api and gateway a request meets. A grpc-js
# client on gateway B's frontend port lists, reads and writes its files and streams a terminal
# on it (the daemon is held by gateway A). Another user's token reaches none of it.
#   daemon_services_distributed.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
integration_setup dsvc
"$reliant" admin user create --email dev@example.com --db-url "$url" >/dev/null
"$reliant" admin user create --email other@example.com --db-url "$url" >/dev/null
token=$("$reliant" admin token create --user dev@example.com --name laptop --db-url "$url" | tail -n 1)
other=$("$reliant" admin token create --user other@example.com --name laptop --db-url "$url" | tail -n 1)

base=$(free_port_block 24)
start_gateway ga "$base" --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
start_gateway gb $((base + 20)) --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
start_daemon box "$token" "$base"
start_servers "$base" 2
wait_daemons_active 1
api1="http://127.0.0.1:$((base + 12))"
api2="http://127.0.0.1:$((base + 14))"
daemon_id=$(q "SELECT id FROM daemons WHERE status = 'active'")
[ "$(q "SELECT gateway_id FROM daemons WHERE id = '$daemon_id'")" = ga ] || fail "the daemon is not on gateway ga"
call() {  # API TOKEN METHOD PATH [BODY] → the status; the body in $work/answer.json
  curl -s -o "$work/answer.json" -w '%{http_code}' -X "$3" -H "Authorization: Bearer $2" \
    -H 'Content-Type: application/json' ${5:+--data-binary "$5"} "$1/api/v1/daemons/$daemon_id$4"
}

code=$(call "$api1" "$token" PUT '/files/content?path=notes.md' '{"content":"through the bus"}')
[ "$code" = 200 ] || fail "write through api 1: HTTP $code $(cat "$work/answer.json")"
[ "$(cat "$work/box/notes.md")" = "through the bus" ] || fail "the file on the daemon's disk"
code=$(call "$api2" "$token" GET '/files/content?path=notes.md')  # content: the bytes in base64
[ "$code" = 200 ] && grep -qF "\"content\":\"$(printf 'through the bus' | base64)\"" "$work/answer.json" ||
  fail "read through api 2: HTTP $code $(cat "$work/answer.json")"
code=$(call "$api2" "$token" GET '/processes')  # an empty list is left out: {}
[ "$code" = 200 ] && grep -qxF '{}' "$work/answer.json" ||
  fail "processes: HTTP $code $(cat "$work/answer.json")"
for path in '/files/content?path=notes.md' '/processes' '/terminals'; do
  code=$(call "$api1" "$other" GET "$path")
  [ "$code" = 404 ] || fail "another user's token on $path: HTTP $code $(cat "$work/answer.json")"
done

node "$(dirname "$0")/../interop/terminal_ws.mjs" "$api2" - "$token" "$daemon_id" >"$work/terminal_ws.log" 2>&1 ||
  fail "terminal WebSocket through api 2: $(cat "$work/terminal_ws.log")"
cat "$work/terminal_ws.log"
code=$(call "$api1" "$token" GET '/terminals')  # no sessions: {}
[ "$code" = 200 ] && grep -qxF '{}' "$work/answer.json" ||
  fail "the closed terminal is still listed: HTTP $code $(cat "$work/answer.json")"
# Gateway B's frontend port (FileSystemService, BackgroundService, TerminalService over gRPC):
# a client nobody here wrote, while gateway A holds the daemon.
proto="$(cd "$(dirname "$0")/../.." && pwd)/proto/reliant/api/v1/daemon_services.proto"
node "$(dirname "$0")/../interop/grpc_frontend.mjs" "$proto" "127.0.0.1:$((base + 21))" "$token" \
  "$daemon_id" "$other" >"$work/grpc_frontend.log" 2>&1 ||
  fail "grpc-js on gateway B's frontend: $(cat "$work/grpc_frontend.log")"
cat "$work/grpc_frontend.log"
[ "$(cat "$work/box/from-grpc-js.txt")" = "grpc-js was here" ] || fail "grpc-js's file on the daemon's disk"
# A config reload is fire-and-forget on the bus (one gateway of the queue group hands it to the
# holder): the daemon reads its MCP configuration again, and a server added to it shows up.
mkdir -p "$work/box/.reliant"
cat >"$work/box/.reliant/mcp.json" <<'JSON'
{"mcpServers": {"added-later": {"command": "/nonexistent/never-started", "enabled": false}}}
JSON
code=$(call "$api2" "$token" POST '/mcp/reload')
[ "$code" = 202 ] || fail "reload through api 2: HTTP $code $(cat "$work/answer.json")"
for _ in $(seq 1 50); do
  code=$(call "$api1" "$token" GET '/mcp')
  grep -qF '"name":"added-later"' "$work/answer.json" && break
  sleep 0.1
done
grep -qF '"name":"added-later"' "$work/answer.json" ||
  fail "the reloaded configuration is not in effect: HTTP $code $(cat "$work/answer.json")"
echo "a reload sent through api 2 reached the daemon on gateway A: its new server is listed"
# A workspace's file waits for approval (issue 38): UNTRUSTED until the user approves its hash,
# here through api 2 to the daemon gateway A holds, which keeps it in its own ~/.reliant. (This
# daemon's home is its workspace, so its .reliant/mcp.json above is the user's own file; the
# local layer is the workspace's.)
mkdir -p "$work/box/.reliant.local"
cat >"$work/box/.reliant.local/mcp.json" <<'JSON'
{"mcpServers": {"local-one": {"command": "/nonexistent/never-started", "enabled": false}}}
JSON
code=$(call "$api2" "$token" POST '/mcp/reload')
for _ in $(seq 1 50); do
  code=$(call "$api1" "$token" GET '/mcp')
  grep -qF '"name":"local-one"' "$work/answer.json" && break
  sleep 0.1
done
python3 -c 'import json,sys; s={x["name"]: x["status"] for x in json.load(open(sys.argv[1]))["servers"]}; sys.exit(s.get("local-one") != "UNTRUSTED")' \
  "$work/answer.json" || fail "a workspace's server before approval: $(cat "$work/answer.json")"
sha=$(sha256sum "$work/box/.reliant.local/mcp.json" | cut -d' ' -f1)
code=$(call "$api2" "$token" POST '/mcp/files/approve' \
  "{\"file\":\"$work/box/.reliant.local/mcp.json\",\"sha256\":\"$sha\"}")
[ "$code" = 200 ] && grep -qF '"status":"APPROVED"' "$work/answer.json" ||
  fail "approve through api 2: HTTP $code $(cat "$work/answer.json")"
code=$(call "$api1" "$token" GET '/mcp')
python3 -c 'import json,sys; s={x["name"]: x["status"] for x in json.load(open(sys.argv[1]))["servers"]}; sys.exit(s.get("local-one") != "DISABLED")' \
  "$work/answer.json" || fail "the approved server's status: HTTP $code $(cat "$work/answer.json")"
[ -f "$work/box/.reliant/mcp-approvals.json" ] || fail "the daemon kept no approval in its home"
echo "an approval sent through api 2 reached the daemon on gateway A: its server is configured"
echo "daemon_services_distributed: ok"
