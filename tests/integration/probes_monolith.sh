#!/usr/bin/env bash
# What a hostile or careless client tried against a real monolith, each answered without harm
# (issue 15's probes). Every check is bounded in time; the script stops by itself.
#   1. JSON nested 70,000 deep in a settings body: a clear 4xx, the server keeps serving.
#   2. A file tool that would block (view /proc/kmsg) and one that walks a whole system tree
#      (grep over /usr): /health keeps answering meanwhile; SIGTERM still stops the server.
#   3. Update streams that never read while chats produce large outputs: memory stays bounded
#      and the server ends those streams.
#   4. A cancelled chat leaves no process of its tool behind, not even one that left its
#      process group (setsid).
#   5. A token revoked while its update stream is open: the stream ends at once.
#   6. A second user of the monolith: the embedded daemon runs nothing for them; the local
#      user's file tools stay in the workspace (the data dir, /etc/shadow are out of reach).
#   7. Tools never see the server's secrets (its environment).
#   probes_monolith.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
source "$(dirname "$0")/../../tools/ports.sh"
work=$(mktemp -d)
pid=""
streams=()
cleanup() {
  for s in "${streams[@]}"; do kill -9 "$s" 2>/dev/null || true; done
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  pkill -9 -f 'sleep 30[12]' 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f"; tail -n 40 "$f"; done
  exit 1
}
mkdir -p "$work/ws" && echo notes >"$work/ws/notes.txt"
port=$(free_port_block 2)
api="http://127.0.0.1:$port"
data="$work/data"
db=(--db-driver sqlite --data-dir "$data")

# A second user, made before the server starts (the server owns the data dir while it runs).
"$reliant" db migrate up "${db[@]}" >/dev/null
"$reliant" admin user create --email mallory@example.com "${db[@]}" >/dev/null
mallory=$("$reliant" admin token create --user mallory@example.com "${db[@]}" | tail -n 1)

start() {  # [EXTRA MONOLITH ARGS...]
  OPENAI_API_KEY=sk-the-servers-secret-key \
    "$reliant" monolith --data-dir "$data" --api-port "$port" --grpc-port $((port + 1)) \
    --disable-tls --working-dir "$work/ws" "$@" >>"$work/monolith.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf "$api/health" >/dev/null && return 0
    sleep 0.1
  done
  fail "the monolith did not come up"
}
start
token=$(cat "$data/auth/token")
auth=(-H "Authorization: Bearer $token")
alive() { kill -0 "$pid" 2>/dev/null || fail "the monolith died"; }
# health_within SECONDS: /health answers within that long.
health_within() {
  curl -sf -m "$1" "$api/health" >/dev/null || fail "/health did not answer within $1 s"
}
# A chat of the local user (or of TOKEN) running MESSAGE; prints the chat id.
chat_with() {  # MESSAGE [TOKEN]
  local t=${2:-$token} chat
  chat=$(curl -sf -H "Authorization: Bearer $t" -H 'Content-Type: application/json' \
    -d '{"title":"probe"}' "$api/api/v1/chats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1]}))' "$1" |
    curl -sf -H "Authorization: Bearer $t" -H 'Content-Type: application/json' -d @- \
      "$api/api/v1/chats/$chat/messages" >/dev/null
  echo "$chat"
}
# Waits up to SECONDS for the chat to end; prints its messages' text.
chat_result() {  # CHAT SECONDS [TOKEN]
  local t=${3:-$token}
  for _ in $(seq 1 $(($2 * 10))); do
    local body
    body=$(curl -sf -H "Authorization: Bearer $t" "$api/api/v1/chats/$1")
    # Through stdin: a chat with megabytes of output is too long for an argument.
    if printf '%s' "$body" |
      python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["status"] != "running" else 1)'; then
      echo "$body"
      return 0
    fi
    sleep 0.1
  done
  fail "chat $1 did not end within $2 s"
}

# 1. Deep JSON.
deep=$(python3 -c 'print("[" * 70000 + "]" * 70000)')
code=$(printf '{"settings": %s}' "$deep" | curl -s -o "$work/deep.out" -w '%{http_code}' -X PUT "${auth[@]}" \
  -H 'Content-Type: application/json' --data-binary @- "$api/api/v1/settings")
[ "${code:0:1}" = 4 ] || fail "deep JSON: HTTP $code: $(head -c 300 "$work/deep.out")"
grep -qi 'deep\|nest' "$work/deep.out" || fail "deep JSON: the answer does not say why: $(cat "$work/deep.out")"
alive
health_within 2

# 2. A blocking file and a huge tree, with an unconfined daemon (confinement would refuse both).
kill -TERM "$pid" && wait "$pid" 2>/dev/null || true
start --unconfined
chat=$(chat_with '`tool:view {"file_path":"/proc/kmsg"}` `tool:grep {"pattern":"no such text anywhere zq","path":"/usr"}`')
for _ in $(seq 1 20); do health_within 1; sleep 0.2; done
result=$(chat_result "$chat" 120)
echo "$result" | grep -q 'kmsg' || fail "the view of /proc/kmsg was not answered: $result"
health_within 1
started=$(date +%s%N)
kill -TERM "$pid"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "SIGTERM did not stop the monolith within 5 s"
wait "$pid" 2>/dev/null || true
echo "ok   file tools: /health answered throughout; SIGTERM stopped the server in $((($(date +%s%N) - started) / 1000000)) ms"

# 3. Slow readers: 40 update streams that never read, while chats write megabytes of output.
start
for _ in $(seq 1 40); do
  python3 - "$port" "$token" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.sendall(f"GET /api/v1/updates HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {sys.argv[2]}\r\n\r\n".encode())
time.sleep(120)  # never reads
PY
  streams+=($!)
  disown "$!"  # killed at the end of this probe: no job notice
done
for i in 1 2 3; do
  chat=$(chat_with '`head -c 3000000 /dev/zero | tr "\0" x; echo` `head -c 3000000 /dev/zero | tr "\0" y; echo`')
  chat_result "$chat" 120 >/dev/null
done
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
[ "$rss_kb" -lt 1500000 ] || fail "slow readers: the monolith holds ${rss_kb} kB"
alive
health_within 2
echo "ok   slow readers: RSS ${rss_kb} kB with 40 streams that never read"
for s in "${streams[@]}"; do kill -9 "$s" 2>/dev/null || true; done
streams=()

# 4. Cancel mid-tool: nothing of the tool survives, not even a process that left its group.
chat=$(chat_with '`setsid sh -c "exec sleep 301" & exec sleep 302`')
for _ in $(seq 1 100); do [ "$(pgrep -fxc 'sleep 30[12]')" = 2 ] && break; sleep 0.1; done
[ "$(pgrep -fxc 'sleep 30[12]')" = 2 ] || fail "the tool's processes did not start"
curl -sf -X POST "${auth[@]}" "$api/api/v1/chats/$chat/cancel" >/dev/null || fail "cancel refused"
for _ in $(seq 1 100); do pgrep -fx 'sleep 30[12]' >/dev/null || break; sleep 0.1; done
pgrep -fxa 'sleep 30[12]' && fail "cancelled: the tool's processes still run"
echo "ok   cancel: the tool's process tree is gone"

# 5. A revoked token ends its open update stream.
issued=$(curl -sf "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"probe"}' "$api/api/v1/tokens")
second=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$issued")
second_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$issued")
curl -sN -H "Authorization: Bearer $second" "$api/api/v1/updates" >"$work/stream.out" 2>&1 &
stream=$!
streams+=("$stream")
sleep 1
kill -0 "$stream" 2>/dev/null || fail "the stream did not open: $(cat "$work/stream.out")"
curl -sf -X DELETE "${auth[@]}" "$api/api/v1/tokens/$second_id" >/dev/null || fail "revoke refused"
for _ in $(seq 1 50); do kill -0 "$stream" 2>/dev/null || break; sleep 0.1; done
kill -0 "$stream" 2>/dev/null && fail "the stream of a revoked token is still open after 5 s"
grep -q 'revoked' "$work/stream.out" || fail "the stream did not say why it ended: $(cat "$work/stream.out")"
echo "ok   revocation: the open stream ended"

# 6. Another user gets no embedded daemon; the local user's tools stay in the workspace.
chat=$(chat_with '`cat ../data/reliant.db | head -c 100; id`' "$mallory")
result=$(chat_result "$chat" 30 "$mallory")
echo "$result" | grep -q 'SQLite format' && fail "another user read the database: $result"
echo "$result" | grep -qi 'daemon of your own\|no daemon' || fail "another user's tool call: $result"
chat=$(chat_with "\`tool:view {\"file_path\":\"$data/reliant.db\"}\` \`tool:view {\"file_path\":\"/etc/shadow\"}\` \`tool:write {\"file_path\":\"../planted\",\"content\":\"x\"}\`")
result=$(chat_result "$chat" 30)
[ "$(echo "$result" | grep -o 'outside the daemon' | wc -l)" -ge 3 ] || fail "file tools reached out of the workspace: $result"
[ -e "$work/planted" ] && fail "a file was written outside the workspace"
echo "ok   confinement: another user runs nothing here; file tools stay in the workspace"

# 7. No secret of the server reaches a tool.
chat=$(chat_with '`env; cat /proc/$PPID/environ | tr "\0" "\n" | grep -c OPENAI || true`')
result=$(chat_result "$chat" 30)
echo "$result" | grep -q 'sk-the-servers-secret-key' && fail "a tool saw the server's API key"
echo "ok   environment: tools see no server secret"
alive
