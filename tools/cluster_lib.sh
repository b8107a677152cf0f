# The distributed topology's start-up, shared by tools/cluster.sh and the chaos harness
# (tools/chaos/lib.sh), which source it: the Postgres and nats-server fixtures with a migrated
# database, the six servers' roles, ports and flags, and a user's token. How a process is
# launched, where it logs and how its readiness is awaited stay with the caller.
# shellcheck shell=bash

CLUSTER_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Starts Postgres and nats-server under DIR (DIR/postgres, DIR/nats) and creates and migrates
# the database `reliant`. Sets CLUSTER_ADMIN_URL, CLUSTER_DB_URL and CLUSTER_NATS_URL.
cluster_fixtures() {  # DIR
  "$CLUSTER_LIB_DIR/pg_fixture.sh" start "$1/postgres" >/dev/null || return 1
  "$CLUSTER_LIB_DIR/nats_fixture.sh" start "$1/nats" >/dev/null || return 1
  CLUSTER_ADMIN_URL=$(cat "$1/postgres/url")
  CLUSTER_DB_URL="${CLUSTER_ADMIN_URL%/*}/reliant"
  CLUSTER_NATS_URL=$(cat "$1/nats/url")
  # Already there when DIR held a cluster before: the migration below brings it up to date.
  psql "$CLUSTER_ADMIN_URL" -qtc "CREATE DATABASE reliant" >/dev/null 2>&1 || true
  "$reliant" db migrate up --db-url "$CLUSTER_DB_URL" >/dev/null
}

# The six servers — gateway ×2, worker ×2, api ×2 — on the ports BASE … BASE+28, each handed to
# LAUNCHER as `LAUNCHER NAME HEALTH_PORT COMMAND...`. Gateways bind to CLUSTER_GATEWAY_BIND
# (default 127.0.0.1: 0.0.0.0 lets a daemon in another network namespace reach them) and add the
# flags in the array CLUSTER_GATEWAY_FLAGS (e.g. short heartbeats). Needs the fixtures' URLs.
# Sets CLUSTER_GATEWAY_PORTS (gateway-1's, gateway-2's), CLUSTER_API_1/2 (URLs) and
# CLUSTER_GRPC_1/2 (host:port).
cluster_servers() {  # BASE LAUNCHER
  local base=$1 launcher=$2 g w a port
  local common=(--db-url "$CLUSTER_DB_URL" --nats-url "$CLUSTER_NATS_URL")
  local loopback=(--bind-address 127.0.0.1)
  local gateway_flags=("${CLUSTER_GATEWAY_FLAGS[@]}")
  CLUSTER_GATEWAY_PORTS=()
  for g in 1 2; do
    port=$((base + 3 * (g - 1)))
    CLUSTER_GATEWAY_PORTS+=("$port")
    "$launcher" "gateway-$g" $((port + 2)) "$reliant" server gateway "${common[@]}" \
      --bind-address "${CLUSTER_GATEWAY_BIND:-127.0.0.1}" --gateway-id "gateway-$g" --disable-tls \
      --daemon-port "$port" --frontend-port $((port + 1)) --health-port $((port + 2)) \
      "${gateway_flags[@]}" || return 1
  done
  for w in 1 2; do
    "$launcher" "worker-$w" $((base + 10 + w)) "$reliant" server worker "${common[@]}" \
      "${loopback[@]}" --worker-id "worker-$w" --health-port $((base + 10 + w)) || return 1
  done
  for a in 1 2; do
    "$launcher" "api-$a" $((base + 21 + 2 * a)) "$reliant" server api "${common[@]}" \
      "${loopback[@]}" --disable-tls --api-port $((base + 20 + 2 * a)) \
      --health-port $((base + 21 + 2 * a)) --grpc-port $((base + 26 + a)) --pprof-port 0 || return 1
  done
  CLUSTER_API_1=http://127.0.0.1:$((base + 22))
  CLUSTER_API_2=http://127.0.0.1:$((base + 24))
  CLUSTER_GRPC_1=127.0.0.1:$((base + 27))
  CLUSTER_GRPC_2=127.0.0.1:$((base + 28))
}

# Prints a new personal access token for EMAIL's user, made first when missing.
cluster_token() {  # EMAIL TOKEN_NAME
  "$reliant" admin user create --email "$1" --db-url "$CLUSTER_DB_URL" >/dev/null 2>&1 || true
  "$reliant" admin token create --user "$1" --name "$2" --db-url "$CLUSTER_DB_URL" | tail -n 1
}
