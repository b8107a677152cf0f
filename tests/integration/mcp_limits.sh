#!/usr/bin/env bash
# Issue 38's MCP items, on a real monolith whose user's ~/.reliant/mcp.json runs the probe server
# (tests/integration/mcp_probe_server.py) and one that never answers initialize:
#   1. A chat's first turn is not held up by the stuck server (it was 30 s).
#   2. A 15 MiB result is stored cut to 512 KiB, with a notice (it was stored whole).
#   3. An answer nested too deep fails its call at once, saying so (it waited out a 24 h bound).
#   4. 1,000 tools/list_changed notifications are a listing or two, not 1,000; the monolith's
#      peak memory is printed.
# Bounded in time; stops by itself.
#   mcp_limits.sh RELIANT_BINARY
set -euo pipefail
reliant=$(realpath "$1")
source "$(dirname "$0")/mcp_monolith_lib.sh"
mcp_setup
cat >"$HOME/.reliant/mcp.json" <<JSON
{"mcpServers": {
  "probe": {"command": "python3", "args": ["$probe", "--requests", "$work/requests.txt", "--tools", "2000"]},
  "stuck": {"command": "python3", "args": ["$probe", "--no-initialize"]}}}
JSON
start_monolith
# A chat running MESSAGE; prints its id.
chat_with() {
  local chat
  chat=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"title":"mcp"}' "$api/api/v1/chats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  python3 -c 'import json,sys; print(json.dumps({"text": sys.argv[1]}))' "$1" |
    curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d @- \
      "$api/api/v1/chats/$chat/messages" >/dev/null
  echo "$chat"
}
# Waits up to SECONDS for CHAT to end; its body goes to $work/chat.json.
chat_result() {  # CHAT SECONDS
  for _ in $(seq 1 $(($2 * 10))); do
    curl -sf -H "Authorization: Bearer $token" "$api/api/v1/chats/$1" >"$work/chat.json"
    python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["status"] != "running" else 1)' \
      "$work/chat.json" && return 0
    sleep 0.1
  done
  fail "chat $1 did not end within $2 s"
}
peak_kb() { awk '/VmHWM/ {print $2}' "/proc/$pid/status"; }

# 1. The first turn, with a server that never answers initialize.
started=$(date +%s%N)
chat_result "$(chat_with 'run `tool:mcp__probe__argv {}`')" 60
first_turn_ms=$((($(date +%s%N) - started) / 1000000))
grep -q '\\"args\\"' "$work/chat.json" || fail "the probe's tool did not answer: $(head -c 600 "$work/chat.json")"
[ "$first_turn_ms" -lt 15000 ] || fail "the chat took $first_turn_ms ms (the stuck handshake held it)"
curl -sf -H "Authorization: Bearer $token" "$api/api/v1/daemons" >"$work/daemons.json"
daemon=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["daemons"][0]["id"])' "$work/daemons.json")
curl -sf -H "Authorization: Bearer $token" "$api/api/v1/daemons/$daemon/mcp" >"$work/servers.json"
echo "ok   first turn: $first_turn_ms ms with a server stuck in its handshake ($(python3 -c \
  'import json,sys; print(", ".join(s["name"] + " " + s["status"] for s in json.load(open(sys.argv[1])).get("servers", [])))' \
  "$work/servers.json"))"

# 2. A 15 MiB result.
chat_result "$(chat_with 'run `tool:mcp__probe__big {"bytes": 15728640}`')" 120
size=$(wc -c <"$work/chat.json")
grep -q 'output truncated: ' "$work/chat.json" || fail "no truncation notice in a chat of $size bytes"
[ "$size" -lt $((1024 * 1024)) ] || fail "the chat holds $size bytes for a 15 MiB result"
echo "ok   a 15 MiB result: the chat holds $size bytes, with the notice"

# 3. An answer nested too deep.
started=$(date +%s%N)
chat_result "$(chat_with 'run `tool:mcp__probe__deep {"levels": 300}`')" 60
deep_ms=$((($(date +%s%N) - started) / 1000000))
grep -q 'not a valid JSON-RPC message' "$work/chat.json" ||
  fail "the deep answer was not reported as malformed: $(head -c 800 "$work/chat.json")"
echo "ok   a deep answer: reported malformed in $deep_ms ms"

# 4. 1,000 list_changed notifications; each listing is 2,005 tools (about 0.5 MB).
before_lists=$(grep -c '^tools/list$' "$work/requests.txt")
before_kb=$(peak_kb)
chat_result "$(chat_with 'run `tool:mcp__probe__churn {"count": 1000}`')" 120
sleep 5
after_lists=$(grep -c '^tools/list$' "$work/requests.txt")
after_kb=$(peak_kb)
listings=$((after_lists - before_lists))
echo "ok?  1,000 list_changed: $listings tools/list requests; peak memory $before_kb -> $after_kb kB"
[ "$listings" -ge 1 ] && [ "$listings" -le 3 ] || fail "1,000 notifications made $listings listings"
curl -sf "$api/health" >/dev/null || fail "the monolith stopped answering"
echo PASS
