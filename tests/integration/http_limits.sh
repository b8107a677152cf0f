#!/usr/bin/env bash
# The HTTP port under issue 15's probe: the real `reliant monolith` with 256 descriptors and
# 2-second read deadlines, and 300 idle connections from one client. /health and an
# authenticated request still answer within a few seconds, the server closes every idle
# connection by itself, and a request whose framing is ambiguous (`Transfer-Encoding: chunked,
# identity`; Transfer-Encoding with Content-Length) gets a 400 and nothing else: the request
# hidden behind it is never answered.
#   http_limits.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
source "$(dirname "$0")/../../tools/ports.sh"
work=$(mktemp -d)
pid=""
holder=""
cleanup() {
  [ -n "$holder" ] && kill -9 "$holder" 2>/dev/null || true
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -n 30 "$f"; done
  exit 1
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

mkdir -p "$work/ws"
port=$(free_port_block 2)
api="http://127.0.0.1:$port"
# Plaintext, so that raw sockets can speak to it; no per-address cap, so that the idle
# connections (all from 127.0.0.1, like the probe's) meet the total cap and the deadlines.
(
  ulimit -n 256
  exec "$reliant" monolith --data-dir "$work/data" --api-port "$port" --grpc-port $((port + 1)) \
    --working-dir "$work/ws" --disable-tls --http-header-timeout 2 --http-body-timeout 2 \
    --http-idle-timeout 2 --http-max-connections-per-address 0
) >>"$work/monolith.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  curl -sf -m 2 "$api/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -sf -m 2 "$api/health" >/dev/null || fail "the monolith did not come up"
token=$(cat "$work/data/auth/token")
# 256 descriptors leave room for at most 96 HTTP connections (a quarter kept back, half the
# rest for the gRPC port); the monolith says so.
grep -q "at most 96 open HTTP connections" "$work/monolith.log" \
  || fail "the monolith did not lower its connection cap to fit 256 descriptors"

# 300 idle connections, held until the server closes them (15 s at most). The holder writes
# how many it opened to $work/opened, then how many the server closed to $work/closed.
python3 - "$port" 300 15 "$work/opened" >"$work/closed" 2>"$work/holder.log" <<'PY' &
import os, selectors, socket, sys, time
port, count, limit_s, opened_file = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
sockets = []
for _ in range(count):
    try:
        sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    except OSError as e:
        print("connect:", e, file=sys.stderr)
with open(opened_file + ".tmp", "w") as f:
    f.write(f"{len(sockets)}\n")
os.rename(opened_file + ".tmp", opened_file)
selector = selectors.DefaultSelector()
for s in sockets:
    s.setblocking(False)
    selector.register(s, selectors.EVENT_READ)
closed = 0
start = time.monotonic()
while closed < len(sockets) and time.monotonic() - start < limit_s:
    for key, _ in selector.select(timeout=0.2):
        try:
            data = key.fileobj.recv(4096)  # a 503 when turned away, then the end
        except BlockingIOError:
            continue
        except OSError:
            data = b""
        if not data:
            selector.unregister(key.fileobj)
            key.fileobj.close()
            closed += 1
print(closed)
PY
holder=$!
for _ in $(seq 1 100); do
  [ -s "$work/opened" ] && break
  sleep 0.1
done
[ -s "$work/opened" ] || fail "the idle connections were not opened: $(cat "$work/holder.log")"
opened=$(cat "$work/opened")
[ "$opened" -ge 290 ] || fail "only $opened of 300 idle connections opened: $(cat "$work/holder.log")"

# until_ok URL [CURL ARGS...]: retries for up to 8 s until a 200 (over the cap, the server
# answers 503); prints the last status and the time it took in ms.
until_ok() {
  local url=$1 code="" start
  shift
  start=$(now_ms)
  while [ $(($(now_ms) - start)) -lt 8000 ]; do
    code=$(curl -s -o "$work/body" -m 2 -w '%{http_code}' "$@" "$url" || true)
    [ "$code" = 200 ] && break
    sleep 0.1
  done
  echo "$code $(($(now_ms) - start))"
}
read -r code took < <(until_ok "$api/health")
[ "$code" = 200 ] || fail "/health did not answer 200 within 8 s of the idle connections (last: $code)"
[ "$took" -lt 6000 ] || fail "/health took $took ms to answer"
health_took=$took
read -r code took < <(until_ok "$api/api/v1/chats" -H "Authorization: Bearer $token")
[ "$code" = 200 ] || fail "GET /api/v1/chats did not answer 200 (last: $code): $(cat "$work/body")"
[ "$took" -lt 6000 ] || fail "GET /api/v1/chats took $took ms to answer"
kill -0 "$pid" 2>/dev/null || fail "the monolith died"

# Every idle connection is closed by the server: to make room for a newer one, or at the header
# deadline.
wait "$holder" || true
holder=""
closed=$(cat "$work/closed")
[ "$closed" = "$opened" ] || fail "the server closed $closed of $opened idle connections within 15 s"

# raw REQUEST: sends it on a new connection and prints what came back before the close (5 s).
raw() {
  python3 - "$port" "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode())
data = b""
deadline = time.monotonic() + 5
while time.monotonic() < deadline:
    try:
        chunk = s.recv(65536)
    except OSError:
        break
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode("latin-1"))
PY
}
auth=$'Host: 127.0.0.1\r\nAuthorization: Bearer '"$token"$'\r\n'
hidden=$'GET /api/v1/me HTTP/1.1\r\n'"$auth"$'\r\n'
expect_refused_alone() {  # WHAT REQUEST
  local got
  got=$(raw "$2")
  [[ "$got" == "HTTP/1.1 400 "* ]] || fail "$1: expected a 400, got: $got"
  [ "$(grep -c '^HTTP/1' <<<"$got")" = 1 ] || fail "$1: more than one answer: $got"
}
expect_refused_alone "chunked, identity" \
  $'POST /api/v1/chats HTTP/1.1\r\n'"$auth"$'Content-Type: application/json\r\nTransfer-Encoding: chunked, identity\r\n\r\n'"$hidden"
expect_refused_alone "Transfer-Encoding and Content-Length" \
  $'POST /api/v1/chats HTTP/1.1\r\n'"$auth"$'Content-Type: application/json\r\nTransfer-Encoding: identity\r\nContent-Length: 2\r\n\r\n{}'"$hidden"
expect_refused_alone "Content-Length and Transfer-Encoding" \
  $'POST /api/v1/chats HTTP/1.1\r\n'"$auth"$'Content-Type: application/json\r\nContent-Length: 7\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'"$hidden"
# Nothing was created by the refused requests.
[ "$(curl -s -m 5 -H "Authorization: Bearer $token" "$api/api/v1/chats")" = '{"chats":[]}' ] \
  || fail "a refused request created a chat"
kill -0 "$pid" 2>/dev/null || fail "the monolith died"
echo "PASS: 300 idle connections under 256 descriptors (/health in ${health_took} ms), every one closed by the server; ambiguous framing refused alone"
