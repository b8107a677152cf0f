#!/usr/bin/env bash
# The daemon's machine against hostile inputs, on a real monolith (issue 38, findings 4, 11, 12
# and 14). Every check is bounded in time; the script stops by itself.
#   1. Grep and the files API's search with patterns that backtracking engines take
#      exponential or quadratic time on: answered in seconds, /health under 1 s meanwhile.
#   2. The README's own layout, `cd PROJECT && reliant monolith --data-dir ./data`: the file
#      tools and the files API never read, list, search or change the data dir.
#   3. A symbolic link flipped between a file inside the workspace and a secret outside while
#      the files API reads it: no read returns the secret.
#   4. A tool's descendant that drops its environment and leaves the session (`env -i setsid`)
#      dies with a cancelled chat, before its side effect; with a cgroup per tool call and with
#      parentage tracking (--no-tool-cgroups).
#   probes_host.sh RELIANT_BINARY [SECTIONS]   (SECTIONS: which of 1234 to run; all by default)
set -euo pipefail
reliant=$(realpath "$1")
sections=${2:-1234}
source "$(dirname "$0")/../../tools/ports.sh"
work=$(mktemp -d)
pid=""
helpers=()
cleanup() {
  for h in "${helpers[@]}"; do kill -9 "$h" 2>/dev/null || true; done
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  # What an escaped tool left behind, found by the witness path only this run uses.
  for p in $(pgrep -f "$work/escaped" 2>/dev/null || true); do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {  # to stderr: it is also called inside $(…), whose output is not shown
  {
    echo "FAIL: $*"
    for f in "$work"/*.log; do echo "--- $f"; tail -n 40 "$f"; done
  } >&2
  exit 1
}
ws="$work/project"
mkdir -p "$ws" "$work/outside"
port=$(free_port_block 2)
api="http://127.0.0.1:$port"

start() {  # [EXTRA MONOLITH ARGS...]: in the project, with the data dir inside it (the README's layout)
  (cd "$ws" && exec "$reliant" monolith --data-dir ./data --api-port "$port" --grpc-port $((port + 1)) \
    --disable-tls "$@" >>"$work/monolith.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf "$api/health" >/dev/null && token=$(token_file) && return 0
    sleep 0.1
  done
  fail "the monolith did not come up"
}
stop() {
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}
token_file() { cat "$ws/data/auth/token"; }
token() { echo "$token"; }  # as it was at the start: the probes check the file is unchanged
# A chat running MESSAGE; prints the chat id.
chat_with() {  # MESSAGE
  local chat
  chat=$(curl -sf -m 5 -H "Authorization: Bearer $(token)" -H 'Content-Type: application/json' \
    -d '{"title":"probe"}' "$api/api/v1/chats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1]}))' "$1" |
    curl -sf -m 5 -H "Authorization: Bearer $(token)" -H 'Content-Type: application/json' -d @- \
      "$api/api/v1/chats/$chat/messages" >/dev/null
  echo "$chat"
}
# Waits up to SECONDS for the chat to end, checking /health under 1 s every 0.2 s meanwhile;
# prints its messages' text.
chat_result() {  # CHAT SECONDS
  for _ in $(seq 1 $(($2 * 5))); do
    curl -sf -m 1 "$api/health" >/dev/null || fail "/health did not answer within 1 s"
    local body
    if ! body=$(curl -sf -m 5 -H "Authorization: Bearer $(token)" "$api/api/v1/chats/$1"); then
      curl -sf -m 1 "$api/health" >/dev/null || fail "/health did not answer within 1 s"
      fail "chat $1 unreadable"
    fi
    if printf '%s' "$body" |
      python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["status"] != "running" else 1)'; then
      echo "$body"
      return 0
    fi
    sleep 0.2
  done
  fail "chat $1 did not end within $2 s"
}
# The embedded daemon's id (it starts on the first authenticated request).
daemon_id() {
  local id=""
  for _ in $(seq 1 50); do
    id=$(curl -sf -m 5 -H "Authorization: Bearer $(token)" "$api/api/v1/daemons" | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d.get("daemons", []) if isinstance(d, dict) else d
print(d[0]["id"] if d else "")' || true)
    [ -n "$id" ] && echo "$id" && return 0
    sleep 0.1
  done
  fail "the embedded daemon did not appear"
}
# The files API: CODE of GET PATH_AND_QUERY on the embedded daemon, body in $work/files.out.
files_get() {  # PATH_AND_QUERY [MAX_SECONDS]
  curl -s -m "${2:-5}" -o "$work/files.out" -w '%{http_code}' -H "Authorization: Bearer $(token)" \
    "$api/api/v1/daemons/$daemon/files$1" || true
}

start

# 1. ReDoS: one 40-character line, and 800 KB of 4 KB lines.
if [[ $sections == *1* ]]; then
python3 -c 'print("x" * 40)' >"$ws/one-line.txt"
python3 -c 'import sys; sys.stdout.write(("a" * 4095 + "\n") * 200)' >"$ws/long-lines.txt"
daemon=$(daemon_id)
started=$(date +%s%N)
chat=$(chat_with '`tool:grep {"pattern":"(x+x+)+y"}` `tool:grep {"pattern":".*zzz"}`')
result=$(chat_result "$chat" 30)
[ "$(echo "$result" | grep -o 'no matches for' | wc -l)" -ge 2 ] || fail "grep did not answer both: $result"
# An error result, not the text "RE2": a chat's ULID may hold it (CI's did).
echo "$result" | grep -q '"is_error":true' && fail "grep: $result"
took_ms=$((($(date +%s%N) - started) / 1000000))
for query in '(x%2Bx%2B)%2By' '.*zzz'; do
  code=$(files_get "/search?path=.&query=$query" 10)
  [ "$code" = 200 ] || fail "files search $query: HTTP $code: $(head -c 300 "$work/files.out")"
  curl -sf -m 1 "$api/health" >/dev/null || fail "/health did not answer within 1 s after a search"
done
echo "ok   grep: hostile patterns answered in ${took_ms} ms in all, /health under 1 s throughout"
fi
daemon=$(daemon_id)

# 2. The data dir lies inside the workspace: out of the file tools' and the files API's reach.
if [[ $sections == *2* ]]; then
before=$(token_file)
chat=$(chat_with '`tool:view {"file_path":"data/auth/token"}` `tool:grep {"pattern":"rlnt_","path":"."}` `tool:write {"file_path":"data/auth/token","content":"overwritten"}` `tool:ls {"path":"data"}` `tool:glob {"pattern":"data/**"}`')
result=$(chat_result "$chat" 30)
[ "$(token_file)" = "$before" ] || fail "the model's write replaced the token"
echo "$result" | grep -qF "$before" && fail "a file tool read the token: $result"
echo "$result" | grep -q 'reliant.db\|web-link' && fail "a file tool listed the data dir: $result"
for query in '/content?path=data/auth/token' '/content?path=./data/../data/auth/token' \
  '?path=data' '/stat?path=data/reliant.db' '/tree?path=data&depth=2' '/search?path=data&query=rlnt_'; do
  code=$(files_get "$query")
  [ "$code" = 403 ] || fail "files API $query: HTTP $code: $(head -c 300 "$work/files.out")"
done
code=$(files_get '/search?path=.&query=rlnt_')
grep -qF "$before" "$work/files.out" && fail "the files API's search read the token"
code=$(curl -s -m 5 -o "$work/files.out" -w '%{http_code}' -X PUT -H "Authorization: Bearer $(token)" \
  -H 'Content-Type: application/json' -d '{"content":"overwritten"}' \
  "$api/api/v1/daemons/$daemon/files/content?path=data/auth/token")
[ "$code" = 403 ] || fail "files API write of the token: HTTP $code"
[ "$(token_file)" = "$before" ] || fail "the files API replaced the token"
echo "ok   data dir: neither the file tools nor the files API reach it"
fi

# 3. A link flipped between a file inside and a secret outside, read 1,000 times.
if [[ $sections == *3* ]]; then
echo inside >"$ws/inside.txt"
echo s3cret-outside >"$work/outside/secret"
python3 - "$ws" "$work/outside/secret" <<'PY' &
# The link swaps places with its twin (renameat2 RENAME_EXCHANGE): it always exists, pointing one
# way or the other, and flips as fast as the kernel renames.
import ctypes, os, sys
ws, secret = sys.argv[1], sys.argv[2]
link, twin = os.path.join(ws, "flip"), os.path.join(ws, ".flip-twin")
os.symlink(os.path.join(ws, "inside.txt"), link)
os.symlink(secret, twin)
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
while True:
    libc.renameat2(AT_FDCWD, link.encode(), AT_FDCWD, twin.encode(), RENAME_EXCHANGE)
PY
helpers+=($!)
mkdir -p "$work/flip"
for i in $(seq 1 1000); do
  code=$(files_get '/content?path=flip')
  cp "$work/files.out" "$work/flip/$i.json"
done
kill -9 "${helpers[-1]}" 2>/dev/null || true
# A read leaks when its answer holds the secret, as text or in its content (base64).
leaks=$(python3 - "$work/flip" <<'PY'
import base64, json, os, sys
leaks = 0
for name in os.listdir(sys.argv[1]):
    raw = open(os.path.join(sys.argv[1], name), "rb").read()
    try:
        content = base64.b64decode(json.loads(raw).get("content", ""))
    except Exception:
        content = b""
    leaks += b"s3cret" in raw or b"s3cret" in content
print(leaks)
PY
)
[ "$leaks" = 0 ] || fail "$leaks of 1000 reads through a flipping link returned the secret"
echo "ok   confinement: 1000 reads through a flipping link, none outside"
fi

# 4. A cancelled tool's descendant that dropped its environment and left its session.
escape_probe() {  # LABEL (one word)
  local witness="$work/escaped-$1"
  chat=$(chat_with "\`env -i /usr/bin/setsid /bin/sh -c 'sleep 6; echo escaped > $witness' & exec sleep 30\`")
  for _ in $(seq 1 100); do pgrep -f "$witness" >/dev/null && break; sleep 0.1; done
  pgrep -f "$witness" >/dev/null || fail "$1: the escaping process did not start"
  sleep 0.5
  curl -sf -m 5 -X POST -H "Authorization: Bearer $(token)" "$api/api/v1/chats/$chat/cancel" >/dev/null ||
    fail "$1: cancel refused"
  # It would live 6 s by itself: gone within 2 s of the cancel, or it escaped.
  for _ in $(seq 1 20); do pgrep -f "$witness" >/dev/null || break; sleep 0.1; done
  pgrep -fa "$witness" && fail "$1: the escaped process outlived the cancel"
  sleep 6
  [ -e "$witness" ] && fail "$1: the escaped process did its side effect"
  echo "ok   cancel ($1): the descendant that left with env -i and setsid is gone"
}
if [[ $sections == *4* ]]; then
mode=$(grep "tools' processes" "$work/monolith.log" | tail -n 1 | grep -o 'cgroup\|parentage' | head -n 1 || true)
escape_probe "${mode:-default}"
[ -n "$mode" ] || fail "the log does not say how tools' processes are tracked"
cgroup=$(grep "tools' processes" "$work/monolith.log" | tail -n 1 | sed -n 's/.*(under \(.*\))$/\1/p')
chat_with '`sleep 60`' >/dev/null  # a tool still running when the monolith stops
sleep 1
stop
[ -n "$cgroup" ] && [ -e "$cgroup" ] && fail "the monolith left its cgroup $cgroup behind"
if "$reliant" monolith --help | grep -q -- '--no-tool-cgroups'; then
  start --no-tool-cgroups
  grep "tools' processes" "$work/monolith.log" | tail -n 1 | grep -q parentage ||
    fail "--no-tool-cgroups: the log does not say parentage"
  escape_probe parentage
fi
fi
stop
