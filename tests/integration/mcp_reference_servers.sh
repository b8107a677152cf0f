#!/usr/bin/env bash
# The daemon's MCP client against servers nobody here wrote, on real processes:
# @modelcontextprotocol/server-everything (tools, images, progress) over stdio, Streamable HTTP
# and the older HTTP+SSE, and
# @modelcontextprotocol/server-filesystem (configured in a project's layered mcp.json, with a
# variable, approved with `reliant mcp approve --local`), through `reliant mcp`; and on the monolith, called by the agent (over stdio and
# over HTTP) and managed through the MCPService over REST. Also a program that is no MCP server and one that does not
# exist: a precise error and exit 2, never a hang or a crash.
#   mcp_reference_servers.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
here=$(cd "$(dirname "$0")" && pwd)
interop=$here/../interop
everything=$interop/node_modules/@modelcontextprotocol/server-everything/dist/index.js
filesystem=$interop/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js
[ -f "$everything" ] && [ -f "$filesystem" ] || { echo "FAIL: run: npm ci --prefix tests/interop"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home  # no user's ~/.reliant/mcp.json
mkdir -p "$HOME"
fail() { echo "FAIL: $*"; exit 1; }

# 1. server-everything as an ad-hoc stdio server.
tools=$("$reliant" mcp tools --timeout 30 -- node "$everything" stdio) || fail "tools: $tools"
for name in mcp__cli__echo mcp__cli__get-sum mcp__cli__get-tiny-image; do
  grep -q "^$name"$'\t' <<<"$tools" || fail "no $name in: $tools"
done
echo "server-everything: $(wc -l <<<"$tools") tools listed"
out=$("$reliant" mcp call echo -a '{"message":"hello from reliant"}' -- node "$everything" stdio) ||
  fail "echo: $out"
grep -q "hello from reliant" <<<"$out" || fail "echo answered: $out"
out=$("$reliant" mcp call get-sum -a '{"a":2,"b":40}' -- node "$everything" stdio) || fail "get-sum: $out"
grep -q "42" <<<"$out" || fail "get-sum answered: $out"
out=$("$reliant" mcp call get-tiny-image -- node "$everything" stdio) || fail "image: $out"
grep -q "\[image image/png" <<<"$out" || fail "get-tiny-image answered: $out"
echo "server-everything: echo, get-sum and get-tiny-image answered: $(head -c 80 <<<"$out")"
set +e
out=$("$reliant" mcp call get-sum -a '{"a":"two"}' -- node "$everything" stdio 2>&1); code=$?
set -e
[ "$code" = 1 ] || [ "$code" = 2 ] || fail "bad arguments gave exit $code: $out"
echo "server-everything: bad arguments refused (exit $code)"

# 1b. server-everything over Streamable HTTP and over HTTP+SSE (its own express servers).
source "$here/../../tools/ports.sh"
http_port=$(free_port_block 2)
PORT=$http_port node "$everything" streamableHttp >"$work/everything-http.log" 2>&1 &
http_server=$!
PORT=$((http_port + 1)) node "$everything" sse >"$work/everything-sse.log" 2>&1 &
sse_server=$!
trap 'kill $http_server $sse_server 2>/dev/null || true; rm -rf "$work"' EXIT
listening() {  # PORT: something accepts connections there
  curl -s -o /dev/null -m 1 "http://127.0.0.1:$1/" || [ $? -ne 7 ]
}
for _ in $(seq 1 100); do
  if listening "$http_port" && listening $((http_port + 1)); then break; fi
  sleep 0.1
done
out=$("$reliant" mcp call echo -a '{"message":"over streamable http"}' --timeout 30 \
  --url "http://127.0.0.1:$http_port/mcp") || fail "echo over Streamable HTTP: $out"
grep -q "Echo: over streamable http" <<<"$out" || fail "echo over Streamable HTTP answered: $out"
out=$("$reliant" mcp call trigger-long-running-operation -a '{"duration":1,"steps":4}' --timeout 30 \
  --url "http://127.0.0.1:$http_port/mcp") || fail "a streamed call over HTTP: $out"
grep -q "Long running operation completed" <<<"$out" || fail "the streamed call answered: $out"
out=$("$reliant" mcp call echo -a '{"message":"over http+sse"}' --timeout 30 \
  --url "http://127.0.0.1:$((http_port + 1))/sse" --transport sse) || fail "echo over HTTP+SSE: $out"
grep -q "Echo: over http+sse" <<<"$out" || fail "echo over HTTP+SSE answered: $out"
set +e
out=$("$reliant" mcp tools --timeout 5 --url "http://127.0.0.1:$(free_port_block 1)/mcp" 2>&1); code=$?
set -e
[ "$code" = 2 ] && grep -q "cannot reach" <<<"$out" || fail "an unreachable HTTP server gave exit $code: $out"
echo "server-everything over HTTP: echo and a streamed call (Streamable HTTP), echo (HTTP+SSE); an unreachable URL refused (exit 2)"

# 2. server-filesystem from the project's layered configuration, with ${VAR:-default}.
project=$work/project
mkdir -p "$project/.reliant" "$project/.reliant.local" "$project/docs" "$work/outside"
echo "inside the roots" >"$project/docs/note.txt"
echo "secret" >"$work/outside/secret.txt"
cat >"$project/.reliant/mcp.json" <<JSON
{"mcpServers": {"fs": {"command": "node", "args": ["$filesystem", "\${FS_ROOT:-$project/docs}"]},
                "off": {"command": "node", "args": ["$everything", "stdio"]}}}
JSON
cat >"$project/.reliant.local/mcp.json" <<'JSON'
{"mcpServers": {"off": {"enabled": false}}}
JSON
# A workspace's files run once approved (issue 38): here for this machine's `reliant mcp`.
approve_local() {  # FILE
  "$reliant" mcp approve "$1" --sha256 "$(sha256sum "$1" | cut -d' ' -f1)" --local >/dev/null ||
    fail "approve --local $1"
}
approve_local "$project/.reliant/mcp.json"
approve_local "$project/.reliant.local/mcp.json"
servers=$("$reliant" mcp servers --dir "$project" --timeout 30) || fail "servers: $servers"
grep -Eq "^fs +HEALTHY" <<<"$servers" || fail "fs is not healthy: $servers"
grep -Eq "^off +DISABLED" <<<"$servers" || fail "off is not disabled: $servers"
echo "$servers"
out=$("$reliant" mcp call read_text_file --server fs --dir "$project" \
  -a "{\"path\":\"$project/docs/note.txt\"}") || fail "read_text_file: $out"
grep -q "inside the roots" <<<"$out" || fail "read_text_file answered: $out"
set +e
out=$("$reliant" mcp call read_text_file --server fs --dir "$project" \
  -a "{\"path\":\"$work/outside/secret.txt\"}" 2>&1); code=$?
set -e
[ "$code" = 1 ] || fail "a read outside the server's roots gave exit $code: $out"
grep -q "secret" <<<"$out" && ! grep -qi "denied\|outside\|not allowed" <<<"$out" && fail "read outside: $out"
echo "server-filesystem: read inside its root; outside refused by the server (exit 1)"

# 3. Not servers: garbage on stdout, and a command that does not exist.
set +e
out=$("$reliant" mcp tools --timeout 2 -- sh -c 'echo this is not json; sleep 30' 2>&1); code=$?
set -e
[ "$code" = 2 ] || fail "a program that is no server gave exit $code: $out"
grep -q "initialize" <<<"$out" || fail "no reason given: $out"
set +e
out=$("$reliant" mcp tools --timeout 5 -- /nonexistent/mcp-server 2>&1); code=$?
set -e
[ "$code" = 2 ] || fail "a missing server gave exit $code: $out"
grep -q "exited with code 127" <<<"$out" || fail "no reason given: $out"
echo "not servers: refused with '$(head -c 100 <<<"$out")' (exit 2)"

# 4. The monolith's agent, with the scripted model, calls server-everything's echo from the
# project's mcp.json, over stdio and over Streamable HTTP, and the results stream to
# `reliant chat`.
ws=$work/ws
mkdir -p "$ws/.reliant"
cat >"$ws/.reliant/mcp.json" <<JSON
{"mcpServers": {"everything": {"command": "node", "args": ["$everything", "stdio"]},
                "remote": {"type": "http", "url": "http://127.0.0.1:$http_port/mcp"}}}
JSON
approve_local "$ws/.reliant/mcp.json"  # read by the monolith's embedded daemon, as HOME is shared
port=$(free_port_block 2)
api="https://127.0.0.1:$port"
"$reliant" monolith --data-dir "$work/data" --api-port "$port" --grpc-port $((port + 1)) \
  --working-dir "$ws" >"$work/monolith.log" 2>&1 &
monolith=$!
trap 'kill -9 $monolith 2>/dev/null || true; kill $http_server $sse_server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  [ -s "$work/data/tls/cert.pem" ] && curl -sf --cacert "$work/data/tls/cert.pem" "$api/health" >/dev/null && break
  sleep 0.1
done
out=$("$reliant" chat --server "$api" --data-dir "$work/data" \
  'run `tool:mcp__everything__echo {"message":"hello through the agent"}`' 2>&1) ||
  { cat "$work/monolith.log"; fail "chat: $out"; }
grep -q "mcp__everything__echo" <<<"$out" || { cat "$work/monolith.log"; fail "no MCP tool call in the chat: $out"; }
grep -q "Echo: hello through the agent" <<<"$out" || fail "the echo did not stream back: $out"
[ -f "$work/data/mcp-everything.log" ] || { cat "$work/monolith.log"; fail "no log of the server's stderr: $(ls -la $work/data)"; }
echo "monolith: the agent called mcp__everything__echo; reliant chat showed: $(grep -m1 "Echo: hello through" <<<"$out")"
out=$("$reliant" chat --server "$api" --data-dir "$work/data" \
  'run `tool:mcp__remote__get-sum {"a":19,"b":23}`' 2>&1) ||
  { cat "$work/monolith.log"; fail "chat over HTTP: $out"; }
grep -q "The sum of 19 and 23 is 42" <<<"$out" || { cat "$work/monolith.log"; fail "the HTTP server's sum did not stream back: $out"; }
echo "monolith: the agent called mcp__remote__get-sum over Streamable HTTP: $(grep -m1 "The sum of" <<<"$out")"

# 5. The MCPService over the monolith's REST API: the embedded daemon's servers, their tools,
# disable and restart; an unknown server is a 404.
token=$(cat "$work/data/auth/token")
rest() {  # METHOD PATH → the body; the status in $status
  local answer
  answer=$(curl -s -w '\n%{http_code}' --cacert "$work/data/tls/cert.pem" -X "$1" \
    -H "Authorization: Bearer $token" "$api$2")
  status=${answer##*$'\n'}
  echo "${answer%$'\n'*}" >"$work/rest.json"
}
rest GET /api/v1/daemons
daemon_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["daemons"][0]["id"])' "$work/rest.json")
rest GET "/api/v1/daemons/$daemon_id/mcp"
[ "$status" = 200 ] && grep -q '"name":"everything"' "$work/rest.json" && grep -q '"status":"HEALTHY"' "$work/rest.json" ||
  fail "GET mcp: $status $(cat "$work/rest.json")"
rest GET "/api/v1/daemons/$daemon_id/mcp/tools?server=everything"
[ "$status" = 200 ] && grep -q '"name":"mcp__everything__get-sum"' "$work/rest.json" ||
  fail "GET mcp/tools: $status $(cat "$work/rest.json")"
rest POST "/api/v1/daemons/$daemon_id/mcp/everything/disable"
grep -q '"status":"DISABLED"' "$work/rest.json" || fail "disable: $status $(cat "$work/rest.json")"
rest POST "/api/v1/daemons/$daemon_id/mcp/everything/enable"
rest POST "/api/v1/daemons/$daemon_id/mcp/everything/restart"
[ "$status" = 200 ] && grep -q '"status":"HEALTHY"' "$work/rest.json" ||
  fail "restart: $status $(cat "$work/rest.json")"
rest POST "/api/v1/daemons/$daemon_id/mcp/nothing/restart"
[ "$status" = 404 ] || fail "an unknown server: $status $(cat "$work/rest.json")"
echo "monolith: MCPService over REST listed, disabled, enabled and restarted server-everything"
echo "PASS"
