#!/usr/bin/env bash
# The monolith as users run it: `reliant monolith` (HTTPS and gRPC over TLS with the
# certificate it generates into its data dir, spec S2.4) and `reliant chat` answer a message
# with tools run by the embedded daemon, none of the tools' escape sequences reaching the
# terminal; its data dir is private (0700, files 0600) and its own (a second monolith on it is
# refused); bad requests get precise 4xx answers and lose nothing;
# a kill -9 mid-tool, then a restart, still ends the run with exactly one final answer and the
# tool never runs twice.
#   monolith.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
source "$(dirname "$0")/../../tools/ports.sh"
work=$(mktemp -d)
pid=""
cleanup() {
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
mkdir -p "$work/ws" && echo one >"$work/ws/alpha.txt" && echo two >"$work/ws/beta.txt"
port=$(free_port_block 2)
api="https://127.0.0.1:$port"
cert="$work/data/tls/cert.pem"
curl() { command curl --cacert "$cert" "$@"; }  # the monolith's own certificate, checked
start() {
  "$reliant" monolith --data-dir "$work/data" --api-port "$port" --grpc-port $((port + 1)) --working-dir "$work/ws" >>"$work/monolith.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do
    [ -s "$cert" ] && curl -sf "$api/health" >/dev/null && return 0
    sleep 0.1
  done
  fail "the monolith did not come up"
}
start
# TLS: plaintext is not spoken, an unknown certificate is refused, and the key is private.
[ "$(command curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" != 200 ] \
  || fail "the monolith answered plaintext HTTP"
command curl -sf "$api/health" >/dev/null 2>&1 && fail "curl trusted the self-signed certificate without --cacert"
[ "$(stat -c %a "$work/data/tls/key.pem")" = 600 ] || fail "the TLS key is not 0600"
# Only its owner may read what the monolith keeps: the data dir is 0700, the database (and the
# -wal and -shm files SQLite makes), the token, the key and the journal are 0600.
[ "$(stat -c %a "$work/data")" = 700 ] || fail "the data dir is $(stat -c %a "$work/data"), not 700"
for f in reliant.db reliant.db-wal reliant.db-shm auth/token tls/key.pem daemon-journal reliant.lock; do
  [ -e "$work/data/$f" ] || fail "DATA_DIR/$f is missing: $(ls -la "$work/data")"
  [ "$(stat -c %a "$work/data/$f")" = 600 ] || fail "DATA_DIR/$f is $(stat -c %a "$work/data/$f"), not 600"
done
# One process per data dir: a second monolith on it (on other ports) stops at once and says
# who holds it; two on one data dir ran every in-flight tool twice. After the kill -9 below a
# new one starts on it without trouble.
if second=$(timeout 20 "$reliant" monolith --data-dir "$work/data" --api-port 0 --grpc-port 0 \
  --working-dir "$work/ws" 2>&1); then
  fail "a second monolith ran on the same data dir: $second"
fi
grep -qF "another reliant process (pid $pid) is using DATA_DIR $work/data" <<<"$second" \
  || fail "the second monolith did not say why it stopped: $second"
curl -sf "$api/health" >/dev/null || fail "the first monolith stopped answering"
token=$(cat "$work/data/auth/token")
# status METHOD PATH [BODY] [TOKEN]: prints the HTTP status; the body goes to $work/body
status() {
  curl -s -o "$work/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${4-$token}" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$api$2"
}
expect() {  # WANT METHOD PATH [BODY] [TOKEN]
  local want=$1 got
  shift
  got=$(status "$@")
  [ "$got" = "$want" ] || fail "$1 $2: HTTP $got, expected $want: $(cat "$work/body")"
}

# A chat through the CLI: the listing and the command's output are streamed back.
out=$("$reliant" chat --server "$api" --data-dir "$work/data" 'list the files and run `echo hello from $(basename $PWD)`' 2>&1) \
  || fail "reliant chat: $out"
for want in alpha.txt beta.txt "hello from ws" "⏺ bash"; do
  grep -qF "$want" <<<"$out" || fail "the chat output lacks '$want': $out"
done
# Tool output that sets the window title, clears the screen and writes the clipboard (OSC 52)
# reaches the terminal as its text only (in the same chat).
first_chat=$(sed -nE 's/^chat ([^ ]+) · run .*/\1/p' <<<"$out" | head -n 1)
[ -n "$first_chat" ] || fail "reliant chat did not print the chat's id: $out"
out=$("$reliant" chat --server "$api" --data-dir "$work/data" --chat "$first_chat" \
  'run `printf "before\033]0;pwned\007\033[2J\033]52;c;cHduZWQ=\007after\n"`' 2>&1) \
  || fail "reliant chat (escape sequences): $out"
grep -qF "beforeafter" <<<"$out" || fail "the tool output lost its text: $(cat -v <<<"$out")"
if grep -q $'\e' <<<"$out"; then fail "escape sequences reached the terminal: $(cat -v <<<"$out")"; fi

# The gRPC services over the Connect protocol on the HTTPS port, as a browser calls them.
connect=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{}' \
  "$api/reliant.api.v1.ChatService/ListChats") || fail "Connect ListChats failed"
grep -q '"chats":\[{' <<<"$connect" || fail "Connect ListChats: $connect"

# Bad input: precise statuses, and nothing changes.
expect 401 GET /api/v1/chats "" ""
expect 401 GET /api/v1/chats "" "rlnt_pat_not-a-real-token"
expect 400 POST /api/v1/chats '{"title": '
grep -q "not valid JSON" "$work/body" || fail "the 400 does not say why: $(cat "$work/body")"
expect 400 POST /api/v1/chats '{"title": 5}'
expect 404 GET /api/v1/chats/01NOSUCHCHAT0000000000000
expect 404 POST /api/v1/chats/01NOSUCHCHAT0000000000000/messages '{"text":"hi"}'
expect 404 GET /api/v1/nothing-here
expect 400 GET '/api/v1/updates?since_seq=abc'
head -c 2000000 /dev/zero | tr '\0' 'a' >"$work/big"
got=$(curl -s -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  --data-binary "@$work/big" "$api/api/v1/chats")
[ "$got" = 413 ] || fail "an oversized body got HTTP $got"
expect 201 POST /api/v1/chats '{"title":"busy"}'
chat=$(sed -E 's/.*"id":"([^"]+)".*/\1/' "$work/body")
expect 400 POST "/api/v1/chats/$chat/messages" '{"text": 42}'
expect 202 POST "/api/v1/chats/$chat/messages" '{"text":"run `echo started >> runs.txt; sleep 3; echo slept`"}'
expect 409 POST "/api/v1/chats/$chat/messages" '{"text":"too soon"}'
grep -q "still answering" "$work/body" || fail "the 409 does not say why: $(cat "$work/body")"
expect 200 GET /api/v1/chats
[ "$(grep -o '"id"' "$work/body" | wc -l)" = 2 ] || fail "expected exactly two chats: $(cat "$work/body")"

# kill -9 while the tool runs, then restart: the run ends once, the command ran once.
for _ in $(seq 1 50); do [ -s "$work/ws/runs.txt" ] && break; sleep 0.1; done
[ -s "$work/ws/runs.txt" ] || fail "the slow command never started"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
# A data dir others can enter is used as it is, with a warning.
chmod 755 "$work/data"
start
grep -q "can be entered by others" "$work/monolith.log" || fail "no warning about a data dir of mode 755"
[ "$(stat -c %a "$work/data/reliant.db")" = 600 ] || fail "reliant.db is no longer 0600"
final=""
for _ in $(seq 1 600); do
  expect 200 GET "/api/v1/chats/$chat"
  grep -q '"status":"running"' "$work/body" || { final=$(cat "$work/body"); break; }
  sleep 0.1
done
[ -n "$final" ] || fail "the run did not finish within 60 s of the restart: $(cat "$work/body")"
grep -q '"status":"idle"' <<<"$final" || fail "the chat did not end idle: $final"
[ "$(wc -l <"$work/ws/runs.txt")" = 1 ] || fail "the command ran $(wc -l <"$work/ws/runs.txt") times"
answers=$(grep -o '"role":"assistant"' <<<"$final" | wc -l)
[ "$answers" = 2 ] || fail "expected the tool request and one final answer, got $answers assistant messages: $final"
echo "PASS: chat through the CLI, 4xx answers, recovery after kill -9 (command ran once)"
