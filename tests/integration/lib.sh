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
