# Shared by mcp_trust.sh and mcp_limits.sh (sourced): a scratch folder and HOME of their own, the
# probe server, and a plain-HTTP monolith on free ports whose embedded daemon works in $work/ws.
# The caller sets `reliant`, then calls `mcp_setup`; `start_monolith [ENV=VALUE...]` starts it
# (its pid in $pid, its API in $api, its data dir in $data, the local user's token in $token).

source "$(dirname "${BASH_SOURCE[0]}")/../../tools/ports.sh"

mcp_setup() {
  probe=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/mcp_probe_server.py
  work=$(mktemp -d)
  pid=""
  trap mcp_cleanup EXIT
  export HOME=$work/home  # the user's ~/.reliant: mcp.json and approvals of this test only
  mkdir -p "$HOME/.reliant" "$work/ws"
}

mcp_cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}

fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -n 30 "$f"; done
  exit 1
}

start_monolith() {  # [ENV=VALUE...]
  local port
  port=$(free_port_block 2)
  api="http://127.0.0.1:$port"
  data=$work/data
  env "$@" "$reliant" monolith --data-dir "$data" --api-port "$port" --grpc-port $((port + 1)) \
    --disable-tls --working-dir "$work/ws" >"$work/monolith.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf "$api/health" >/dev/null && break
    sleep 0.1
  done
  curl -sf "$api/health" >/dev/null || fail "the monolith did not come up"
  token=$(cat "$data/auth/token")
}
