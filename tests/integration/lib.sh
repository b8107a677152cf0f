# Shared by the integration tests (sourced): a throwaway database on the fixtures' Postgres,
# background processes that die with the test, and the usual waits. The caller sets `reliant`,
# `admin_url` and `nats_url`, then calls `integration_setup PREFIX`.

source "$(dirname "${BASH_SOURCE[0]}")/../../tools/ports.sh"

# Creates and migrates database PREFIX_<pid>; sets db, url, work (a scratch folder) and pids.
integration_setup() {
  db="$1_$$"
  url="${admin_url%/*}/$db"
  work=$(mktemp -d)
  pids=()
  trap integration_cleanup EXIT
  psql "$admin_url" -qtc "CREATE DATABASE $db" >/dev/null
  "$reliant" db migrate up --db-url "$url" >/dev/null
}

integration_cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql "$admin_url" -qtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}

q() { psql "$url" -qtAc "$1"; }

# Prints the reason and the end of every log in the scratch folder, and fails the test.
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -n 30 "$f"; done
  exit 1
}

# Waits up to TENTHS tenths of a second for process PID to end; fails with MESSAGE unless it did.
wait_gone() {  # PID TENTHS MESSAGE
  for _ in $(seq 1 "$2"); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
  fail "$3"
}

# Waits up to 5 s for a health endpoint on PORT to answer ready.
wait_ready() {  # PORT WHAT
  local ready=""
  for _ in $(seq 1 50); do
    ready=$(curl -s "http://127.0.0.1:$1/ready" || true)
    [ "$ready" = '{"status":"ready"}' ] && return 0
    sleep 0.1
  done
  fail "$2 not ready on :$1: '$ready'"
}

# Starts a plaintext gateway named ID whose daemon port is PORT (frontend PORT+1, health
# PORT+2); extra arguments go to the gateway. Returns once it is ready; its pid is $last_pid.
start_gateway() {  # ID PORT [ARGS...]
  local id=$1 port=$2
  shift 2
  "$reliant" server gateway --db-url "$url" --nats-url "$nats_url" --gateway-id "$id" \
    --daemon-port "$port" --frontend-port $((port + 1)) --health-port $((port + 2)) \
    --bind-address 127.0.0.1 --disable-tls "$@" >"$work/$id.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
  wait_ready $((port + 2)) "gateway $id"
}

# Starts a daemon NAME of the user whose token is TOKEN, connected to the plaintext gateway on
# GATEWAY_PORT, working in $work/NAME; extra arguments go to `daemon start`.
start_daemon() {  # NAME TOKEN GATEWAY_PORT [ARGS...]
  local name=$1 token=$2 port=$3
  shift 3
  mkdir -p "$work/$name"
  echo "$token" | HOME="$work/$name" "$reliant" daemon start --token --name "$name" \
    --grpc-url "http://127.0.0.1:$port" --working-dir "$work/$name" --heartbeat-interval 1 \
    --stale-timeout 3 --backoff-max 1 "$@" >"$work/$name.log" 2>&1 &
  pids+=($!)
}

# Starts COUNT workers w1…wCOUNT (health on BASE+4+i, pids in pid_wI) and COUNT apis (REST on
# BASE+10+2i, health BASE+11+2i, gRPC BASE+16+i), and waits until all are ready.
# The api replicas take the flags in the array api_flags too (unset: none), e.g.
# api_flags=(--managed-platforms local,kubernetes).
start_servers() {  # BASE COUNT
  local base=$1 count=$2 i
  for i in $(seq 1 "$count"); do
    "$reliant" server worker --db-url "$url" --nats-url "$nats_url" --worker-id "w$i" \
      --health-port $((base + 4 + i)) --bind-address 127.0.0.1 >"$work/w$i.log" 2>&1 &
    pids+=($!)
    eval "pid_w$i=$!"
    "$reliant" server api --db-url "$url" --nats-url "$nats_url" --disable-tls \
      --bind-address 127.0.0.1 --api-port $((base + 10 + 2 * i)) \
      --health-port $((base + 11 + 2 * i)) --grpc-port $((base + 16 + i)) --pprof-port 0 \
      ${api_flags[@]+"${api_flags[@]}"} >"$work/api$i.log" 2>&1 &
    pids+=($!)
  done
  for i in $(seq 1 "$count"); do
    wait_ready $((base + 4 + i)) "worker w$i"
    wait_ready $((base + 11 + 2 * i)) "api $i"
  done
}

# Waits up to 10 s until COUNT daemons are active.
wait_daemons_active() {  # COUNT
  for _ in $(seq 1 100); do
    [ "$(q "SELECT COUNT(*) FROM daemons WHERE status = 'active'")" = "$1" ] && return 0
    sleep 0.1
  done
  fail "$(q "SELECT COUNT(*) FROM daemons WHERE status = 'active'") daemons active, expected $1"
}
