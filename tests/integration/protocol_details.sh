#!/usr/bin/env bash
# Headers, cookies and protocol details (issue 38's low items) on the real `reliant monolith`:
#   1. an HTTP/1.1 request without Host, or with two, gets a 400 (RFC 9112 §3.2);
#   2. `Authorization: bearer` in lower case is a bearer token (RFC 9110 §11.1);
#   3. API JSON, the new-token answer included, says Cache-Control: no-store and
#      X-Content-Type-Options: nosniff;
#   4. no CORS by default: another origin gets no Access-Control-Allow-Origin, unless
#      --cors-origins names it;
#   5. two monoliths on one host keep their browser sessions apart (each names its cookie for
#      its port): signing in to the second leaves the first signed in;
#   6. --llm-api-key leaves the process's command line (ps, /proc/PID/cmdline) with a warning;
#      --llm-api-key-file passes the key without it, and the provider gets that key; a missing
#      or empty key file, or a key given both ways, is a clear error at start.
#   protocol_details.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
source "$(dirname "$0")/../../tools/ports.sh"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# Every check runs; the failed ones are listed at the end (or when the script cannot go on).
problems=()
problem() { problems+=("$*"); }
fail() {
  [ "${#problems[@]}" -eq 0 ] || printf 'FAIL: %s\n' "${problems[@]}"
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -n 30 "$f"; done
  exit 1
}
mkdir -p "$work/ws"
block=$(free_port_block 6)

# start NAME PORT [MONOLITH ARGS...]: a monolith with its data in $work/NAME; sets $last_pid.
start() {
  local name=$1 port=$2
  shift 2
  "$reliant" monolith --data-dir "$work/$name" --api-port "$port" --grpc-port $((port + 1)) \
    --working-dir "$work/ws" --disable-tls "$@" >>"$work/$name.log" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
  for _ in $(seq 1 100); do
    curl -sf -m 2 "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "monolith $name did not come up"
}
a_port=$block
b_port=$((block + 2))
c_port=$((block + 4))
start a "$a_port"
a="http://127.0.0.1:$a_port"
token=$(cat "$work/a/auth/token")

# raw REQUEST: sends it on a new connection; prints the status line.
raw() {
  python3 - "$a_port" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode())
data = b""
while b"\r\n" not in data:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
print(data.split(b"\r\n")[0].decode("latin-1"))
PY
}

# 1. Host.
got=$(raw $'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n')
[[ "$got" == "HTTP/1.1 400 "* ]] || problem "HTTP/1.1 without Host got: $got"
got=$(raw $'GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n')
[[ "$got" == "HTTP/1.1 400 "* ]] || problem "two Host headers got: $got"
got=$(raw $'GET /health HTTP/1.0\r\n\r\n')
[[ "$got" == "HTTP/1.0 200 "* ]] || problem "HTTP/1.0 without Host got: $got"

# 2. The bearer scheme in any case.
for scheme in Bearer bearer BEARER; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $scheme $token" "$a/api/v1/me")
  [ "$code" = 200 ] || problem "Authorization: $scheme got $code"
done

# 3. No caching, no sniffing: the new token's answer, a listing, an error.
curl -s -D "$work/token.head" -o /dev/null -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' -d '{"name":"probe"}' "$a/api/v1/tokens"
curl -s -D "$work/list.head" -o /dev/null -H "Authorization: Bearer $token" "$a/api/v1/chats"
curl -s -D "$work/error.head" -o /dev/null "$a/api/v1/chats"
for head in token list error; do
  grep -qi '^cache-control: no-store' "$work/$head.head" || problem "$head: no Cache-Control: no-store"
  grep -qi '^x-content-type-options: nosniff' "$work/$head.head" || problem "$head: no nosniff"
done

# 4. CORS: none by default.
curl -s -D "$work/cors.head" -o /dev/null -H 'Origin: http://evil.example' \
  -H "Authorization: Bearer $token" "$a/api/v1/chats"
curl -s -D "$work/preflight.head" -o /dev/null -X OPTIONS -H 'Origin: http://evil.example' \
  -H 'Access-Control-Request-Method: POST' "$a/api/v1/chats"
if grep -qi '^access-control-allow-origin' "$work/cors.head" "$work/preflight.head"; then
  problem "another origin may call the API by default: $(grep -hi '^access-control' "$work"/*.head)"
fi

# 5. A second monolith on this host (allowing one origin), both signed in with one cookie jar
# (a browser's: cookies per host, not per port).
start b "$b_port" --cors-origins http://app.example
b="http://127.0.0.1:$b_port"
curl -s -D "$work/allowed.head" -o /dev/null -H 'Origin: http://app.example' "$b/health"
grep -qi '^access-control-allow-origin: http://app.example' "$work/allowed.head" \
  || problem "--cors-origins did not allow its origin"
sign_in() {  # NAME URL
  local code
  code=$(sed 's/.*#sign-in=//' "$work/$1/auth/web-link")
  curl -sf -c "$work/jar" -b "$work/jar" -H 'Content-Type: application/json' \
    -d "{\"code\":\"$code\"}" "$2/api/v1/auth/session/local" >/dev/null \
    || fail "cannot sign in to $1"
}
signed_in() { curl -s -o /dev/null -w '%{http_code}' -b "$work/jar" "$1/api/v1/auth/session"; }
sign_in a "$a"
[ "$(signed_in "$a")" = 200 ] || problem "not signed in to the first monolith"
sign_in b "$b"
[ "$(signed_in "$b")" = 200 ] || problem "not signed in to the second monolith"
[ "$(signed_in "$a")" = 200 ] \
  || problem "signing in to the second monolith signed the browser out of the first: $(cat "$work/jar")"
grep -q "reliant_session_$a_port" "$work/jar" || problem "the first cookie is not named for its port"

# 6. The model's key: on the command line, scrubbed and warned about; in a file, never there.
start c "$c_port" --llm-provider openai --llm-base-url http://127.0.0.1:9 \
  --llm-api-key sk-argv-secret-0123456789
cmdline=$(tr '\0' ' ' <"/proc/$last_pid/cmdline")
[[ "$cmdline" != *sk-argv-secret* ]] || problem "the key is in the command line: $cmdline"
if ps -ww -o args= -p "$last_pid" | grep -q sk-argv-secret; then problem "ps shows the key"; fi
grep -q -- "--llm-api-key was given on the command line" "$work/c.log" \
  || problem "no warning about the key on the command line"
kill "$last_pid"
wait "$last_pid" 2>/dev/null || true
printf 'sk-file-secret-0123456789\n' >"$work/key"
chmod 600 "$work/key"
rm -rf "$work/c"
# A stand-in provider that writes down the Authorization of the first request it gets.
python3 - "$work/provider.port" "$work/provider.auth" <<'PY' >>"$work/provider.log" 2>&1 &
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        with open(sys.argv[2], "a") as f:
            f.write(self.headers.get("Authorization", "") + "\n")
        self.send_response(400)
        self.send_header("Content-Length", "0")
        self.end_headers()
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
open(sys.argv[1], "w").write(str(server.server_address[1]))
server.timeout = 1
for _ in range(60):  # stops by itself within a minute
    server.handle_request()
PY
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/provider.port" ] && break; sleep 0.1; done
provider="http://127.0.0.1:$(cat "$work/provider.port")/v1"
start c "$c_port" --llm-provider openai --llm-base-url "$provider" --llm-api-key-file "$work/key"
[ "$(grep -c "was given on the command line" "$work/c.log")" = 1 ] \
  || problem "a warning for the key file"
c_token=$(cat "$work/c/auth/token")
chat=$(curl -s -H "Authorization: Bearer $c_token" -H 'Content-Type: application/json' \
  -d '{"title":"key"}' "http://127.0.0.1:$c_port/api/v1/chats" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
curl -s -o /dev/null -H "Authorization: Bearer $c_token" -H 'Content-Type: application/json' \
  -d '{"text":"hello"}' "http://127.0.0.1:$c_port/api/v1/chats/$chat/messages"
for _ in $(seq 1 100); do [ -s "$work/provider.auth" ] && break; sleep 0.1; done
[ "$(head -n 1 "$work/provider.auth" 2>/dev/null)" = "Bearer sk-file-secret-0123456789" ] \
  || problem "the provider did not get the key file's key: $(cat "$work/provider.auth" 2>/dev/null)"
# Bad input is a clear error at start, never a crash.
refused() {  # WHAT EXPECTED_MESSAGE MONOLITH_ARGS...
  local what=$1 expected=$2 code=0
  shift 2
  "$reliant" monolith --data-dir "$work/bad" --api-port "$((c_port + 10))" --disable-tls \
    --working-dir "$work/ws" --llm-provider openai "$@" >"$work/bad.out" 2>&1 || code=$?
  if [ "$code" -eq 0 ] || [ "$code" -gt 128 ] || ! grep -q -- "$expected" "$work/bad.out"; then
    problem "$what: exit $code, $(tail -n 3 "$work/bad.out")"
  fi
}
refused "a missing key file" "cannot read it" --llm-api-key-file "$work/nowhere"
: >"$work/empty"
refused "an empty key file" "first line is empty" --llm-api-key-file "$work/empty"
refused "a key and a key file" "not both" --llm-api-key-file "$work/key" --llm-api-key=sk-x
if [ "${#problems[@]}" -gt 0 ]; then
  printf 'FAIL: %s\n' "${problems[@]}"
  exit 1
fi
echo "PASS: Host required, bearer in any case, no-store and nosniff, no CORS by default, a cookie per port, the key off the command line"
