# Shared by the integration tests of a plain-HTTP monolith (sourced): a scratch folder and a
# monolith process that die with the test, its start and stop, and the usual failure report.
# The caller sets `reliant`, then calls `monolith_setup`; `start_monolith [ENV=VALUE...]` runs
# the monolith (with those variables) on $data with the working dir $work/ws on $port (REST)
# and $port + 1 (gRPC), at $api, and the arguments in the array $monolith_args if the caller set
# it; its pid is $pid and the local user's token $token.

source "$(dirname "${BASH_SOURCE[0]}")/../../tools/ports.sh"

monolith_setup() {
  work=$(mktemp -d)
  pid=""
  trap monolith_cleanup EXIT
  mkdir -p "$work/ws"
  port=$(free_port_block 2)
  api="http://127.0.0.1:$port"
  data="$work/data"
}

monolith_cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}

# Prints the reason and the end of every log in the scratch folder, and fails the test.
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -n 40 "$f"; done
  exit 1
}

start_monolith() {  # [ENV=VALUE...]
  env "$@" "$reliant" monolith --data-dir "$data" --api-port "$port" --grpc-port $((port + 1)) \
    --disable-tls --working-dir "$work/ws" ${monolith_args[@]+"${monolith_args[@]}"} \
    >>"$work/monolith.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    if curl -sf "$api/health" >/dev/null; then
      token=$(cat "$data/auth/token")
      return 0
    fi
    sleep 0.1
  done
  fail "the monolith did not come up"
}

# SIGTERM, and the wait for the process to go (up to 10 s).
stop_monolith() {
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  wait "$pid" 2>/dev/null || true
  pid=""
}

# The id of the monolith's embedded daemon (the local user's, whose token is TOKEN).
embedded_daemon_id() {  # TOKEN
  curl -sf -H "Authorization: Bearer $1" "$api/api/v1/daemons" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["daemons"][0]["id"])'
}

# Samples the monolith's largest resident size from now on, every 20 ms, into $work/peak_kib (in
# KiB; replaced whole, so a reader never sees half a number), and waits for the first sample.
# The sampler's pid is $sampler; it ends with the monolith.
sample_peak_rss() {
  python3 - "$pid" "$work/peak_kib" <<'PY' &
import os, sys, time
pid, out = sys.argv[1], sys.argv[2]
peak = 0
while True:
    try:
        with open(f"/proc/{pid}/status") as status:
            rss = next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))
    except (OSError, StopIteration):
        break
    if rss > peak:
        peak = rss
        with open(out + ".tmp", "w") as f:
            f.write(str(peak))
        os.replace(out + ".tmp", out)
    time.sleep(0.02)
PY
  sampler=$!
  for _ in $(seq 1 50); do [ -s "$work/peak_kib" ] && break; sleep 0.1; done
}

# Starts the stand-in model provider (fake_llm_provider.py), which writes each request it gets to
# $work/provider.log; it listens at $provider_url and dies with the test.
start_fake_provider() {
  python3 "$(dirname "${BASH_SOURCE[0]}")/fake_llm_provider.py" "$work/provider.port" \
    "$work/provider.log" >"$work/provider.out" 2>&1 &
  provider_pid=$!
  trap 'kill "$provider_pid" 2>/dev/null || true; monolith_cleanup' EXIT
  for _ in $(seq 1 50); do [ -s "$work/provider.port" ] && break; sleep 0.1; done
  [ -s "$work/provider.port" ] || fail "the stand-in provider did not start"
  provider_url="http://127.0.0.1:$(cat "$work/provider.port")"
}

# REST calls as the local user: prints the body; the status goes to $work/status (`status`).
rest() {  # METHOD PATH [BODY]
  curl -s -o "$work/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "$api$2" >"$work/status"
  cat "$work/body"
}
status() { cat "$work/status"; }
# A Python expression over the JSON on stdin, as `d`.
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
