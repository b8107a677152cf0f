#!/usr/bin/env bash
# What a hostile or careless user tried against a real monolith in issue 38, each answered
# without harm to anyone else. Every check is bounded in time; the script stops by itself.
#   1. A restarted monolith keeps SQLite's locks: an admin command beside it (a read, then a new
#      token) deletes no WAL, the new token works at once, and after the stop the database is
#      whole with every row on both sides kept.
#   2. A YAML alias bomb of a few hundred bytes to /workflows/validate: a 400 at its line and
#      column within a second; /health keeps answering.
#   3. A project workflow that calls itself: the run fails at the depth limit; /health and
#      another user's chat answer within a second meanwhile.
#   4. A costly `while`: the run fails within one step's CEL budget; /health and another user's
#      chat answer within a second meanwhile.
#   5. Terminals end with their credential: a revoked token's WebSocket terminal and gRPC
#      StreamTerminal stop at once and run nothing typed after (tests/interop/terminal_sessions.mjs).
#   6. The model's `edit` with replace_all on a 1 MB file and a 2 KB replacement: refused at
#      once, the file unchanged, the monolith's memory not 2 GB more, /health within a second.
#   hardening_monolith.sh RELIANT_BINARY PROTO_DIR
set -euo pipefail
reliant=$1
proto_dir=$2
here=$(dirname "$0")
source "$here/monolith_lib.sh"
monolith_setup
db=(--db-driver sqlite --data-dir "$data")

# A second user, made before the server starts.
"$reliant" db migrate up "${db[@]}" >/dev/null
"$reliant" admin user create --email mallory@example.com "${db[@]}" >/dev/null
mallory=$("$reliant" admin token create --user mallory@example.com "${db[@]}" | tail -n 1)

# status METHOD PATH [BODY] [TOKEN]: prints the HTTP status; the body goes to $work/body
status() {
  curl -s -m 10 -o "$work/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${4-$token}" \
    -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$api$2" || echo "no answer"
}
field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/body" "$1"; }
health_within() { curl -sf -m "$1" "$api/health" >/dev/null || fail "/health did not answer within $1 s"; }
# Another user's chat, from its message to its answer: prints the seconds it took.
other_users_chat_seconds() {
  python3 - "$api" "$mallory" <<'PY'
import json, sys, time, urllib.request
api, token = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    req = urllib.request.Request(api + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)
started = time.monotonic()
chat = call("POST", "/api/v1/chats", {"title": "bystander"})["id"]
call("POST", f"/api/v1/chats/{chat}/messages", {"text": "hello"})
while call("GET", f"/api/v1/chats/{chat}")["status"] == "running":
    if time.monotonic() - started > 30:
        sys.exit("the bystander's chat did not end within 30 s")
    time.sleep(0.02)
print(f"{time.monotonic() - started:.3f}")
PY
}
# The bystander's chat answers within a second (and /health within one) while something runs.
bystanders_fine() {  # WHAT
  health_within 1
  local took
  took=$(other_users_chat_seconds) || fail "$1: the other user's chat: $took"
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.0 else 1)' "$took" \
    || fail "$1: the other user's chat took ${took} s"
  health_within 1
  echo "     $1: another user's chat answered in ${took} s; /health within 1 s"
}
run_status() {  # RUN_ID → its status
  status GET "/api/v1/runs/$1" >/dev/null
  field status
}
wait_run_ended() {  # RUN_ID SECONDS
  for _ in $(seq 1 $(($2 * 10))); do
    [ "$(run_status "$1")" != running ] && return 0
    sleep 0.1
  done
  fail "run $1 still runs after $2 s: $(cat "$work/body")"
}

# 1. The restart, then an admin command beside the running monolith.
start_monolith
stop_monolith
start_monolith
token=$(cat "$data/auth/token")
inode=$(stat -c %i "$data/reliant.db")
grep -q ":$inode " /proc/locks && awk -v pid="$pid" -v inode="$inode" \
  '$5 == pid && $6 ~ (":" inode "$") {found=1} END {exit !found}' /proc/locks \
  || fail "the restarted monolith holds no lock on reliant.db: $(grep ":$inode " /proc/locks || true)"
"$reliant" admin user list "${db[@]}" >"$work/users.out" 2>&1 || fail "admin user list: $(cat "$work/users.out")"
grep -q mallory@example.com "$work/users.out" || fail "admin user list: $(cat "$work/users.out")"
[ -e "$data/reliant.db-wal" ] && [ -e "$data/reliant.db-shm" ] \
  || fail "a read-only admin command beside the monolith deleted its WAL: $(ls -la "$data")"
beside=$("$reliant" admin token create --user mallory@example.com "${db[@]}" 2>"$work/token.log" | tail -n 1) \
  || fail "admin token create beside the monolith: $(cat "$work/token.log")"
[ -e "$data/reliant.db-wal" ] || fail "admin token create deleted the WAL"
[ "$(status GET /api/v1/me "" "$beside")" = 200 ] \
  || fail "the running monolith refused the token made beside it: $(cat "$work/body")"
[ "$(status POST /api/v1/chats '{"title":"kept"}')" = 201 ] || fail "a chat: $(cat "$work/body")"
kept_chat=$(field id)
stop_monolith
python3 - "$data/reliant.db" "$kept_chat" <<'PY' || fail "the database after the stop"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ok = db.execute("PRAGMA integrity_check").fetchone()[0]
assert ok == "ok", f"integrity_check: {ok}"
tokens = db.execute("SELECT COUNT(*) FROM personal_access_tokens pat JOIN users u ON u.id = pat.user_id "
                    "WHERE u.email = 'mallory@example.com'").fetchone()[0]
assert tokens == 2, f"mallory has {tokens} tokens, not 2"
chats = db.execute("SELECT COUNT(*) FROM chats WHERE id = ?", (sys.argv[2],)).fetchone()[0]
assert chats == 1, "the monolith's chat is gone"
PY
echo "ok   restart: SQLite's lock held, the WAL kept beside an admin command, integrity ok, rows kept"

start_monolith
token=$(cat "$data/auth/token")

# 2. An alias bomb: a located 400 at once.
python3 - >"$work/bomb.json" <<'PY'
import json
lines = ['  l0: &l0 "xxxxxxxx"'] + [f'  l{i}: &l{i} [' + ','.join([f'*l{i-1}'] * 9) + ']' for i in range(1, 10)]
print(json.dumps({"source": "name: bomb\npresets:\n" + "\n".join(lines) + "\nnodes:\n  a: {type: router}\n", "file": "bomb.yaml"}))
PY
started=$(date +%s%N)
code=$(curl -s -m 5 -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data-binary @"$work/bomb.json" "$api/api/v1/workflows/validate") \
  || fail "alias bomb: no answer within 5 s"
took_ms=$((($(date +%s%N) - started) / 1000000))
[ "${code:0:1}" = 4 ] || grep -q '"valid":false' "$work/body" || fail "alias bomb: HTTP $code $(head -c 300 "$work/body")"
grep -q 'bomb.yaml:[0-9]*:[0-9]*: .*expands to more than' "$work/body" || fail "alias bomb: no located error: $(head -c 400 "$work/body")"
[ "$took_ms" -lt 1000 ] || fail "alias bomb: answered in $took_ms ms"
health_within 1
echo "ok   alias bomb: refused at its line and column in $took_ms ms"

# 3. A workflow that calls itself.
[ "$(status POST /api/v1/projects '{"name":"loops"}')" = 201 ] || fail "project: $(cat "$work/body")"
project=$(field id)
again=$(python3 -c 'import json; print(json.dumps({"source": "name: again\nentry: me\nnodes:\n  - {id: me, type: workflow, ref: \"project://again\"}\n"}))')
[ "$(status POST "/api/v1/projects/$project/workflows" "$again")" = 201 ] \
  || fail "storing again: $(cat "$work/body")"
[ "$(status POST /api/v1/workflows/runs "{\"workflow\":\"again\",\"project_id\":\"$project\"}")" = 201 ] \
  || fail "run again: $(cat "$work/body")"
root=$(field run_id)
bystanders_fine "recursion"
wait_run_ended "$root" 60
status GET "/api/v1/runs/$root" >/dev/null
grep -q 'runs nest at most 8 deep' "$work/body" || fail "the recursive run: $(head -c 600 "$work/body")"
status GET "/api/v1/workflows/runs" >/dev/null
python3 - "$work/body" <<'PY' || fail "runs after the recursion: $(head -c 600 "$work/body")"
import json, sys
runs = json.load(open(sys.argv[1]))["runs"]
assert len(runs) == 9, f"{len(runs)} runs, not 1 + 8 children"
assert all(r["status"] != "running" for r in runs), "a run still runs"
PY
bystanders_fine "after the recursion"
echo "ok   recursion: stopped 8 deep, every run ended"

# 4. A costly while: the run fails within one step's budget.
spin=$(python3 -c 'import json; print(json.dumps({"source": "name: spin\ninputs:\n  big: {type: array}\nentry: spin\nnodes:\n  - id: spin\n    type: loop\n    while: \"inputs.big.all(x, x >= 0)\"\n    inline:\n      entry: r\n      nodes:\n        - {id: r, type: router}\n", "inputs": {"big": list(range(100000))}}))')
printf '%s' "$spin" >"$work/spin.json"
code=$(curl -s -m 10 -o "$work/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
  -H 'Content-Type: application/json' --data-binary @"$work/spin.json" "$api/api/v1/workflows/runs") \
  || fail "the costly while: no answer to its start within 10 s"
[ "$code" = 201 ] || fail "the costly while: HTTP $code $(cat "$work/body")"
spinning=$(field run_id)
bystanders_fine "costly while"
wait_run_ended "$spinning" 30
status GET "/api/v1/runs/$spinning" >/dev/null
grep -q 'the CEL budget of one step' "$work/body" || fail "the costly while's end: $(head -c 600 "$work/body")"
echo "ok   costly while: failed within one step's CEL budget"

# 5. Terminals end with their credential (WebSocket and gRPC).
daemon_id=$(embedded_daemon_id "$token")
node "$here/../interop/terminal_sessions.mjs" revoke "$api" - "$token" "$daemon_id" \
  "$proto_dir/reliant/api/v1/daemon_services.proto" "127.0.0.1:$((port + 1))" \
  >"$work/terminal_sessions.log" 2>&1 || fail "terminals and revocation: $(cat "$work/terminal_sessions.log")"
cat "$work/terminal_sessions.log"
kill -0 "$pid" 2>/dev/null || fail "the monolith died"

# 6. An edit whose result would be 2 GB.
python3 -c 'import sys; open(sys.argv[1], "w").write("a" * 1000000)' "$work/ws/big.txt"
before_sum=$(sha256sum <"$work/ws/big.txt")
sample_peak_rss  # into $work/peak_kib
baseline_kib=$(cat "$work/peak_kib")
edit=$(python3 -c 'import json; print(json.dumps({"file_path": "big.txt", "old_string": "a", "new_string": "b" * 2048, "replace_all": True}))')
status POST /api/v1/chats '{"title":"edit"}' >/dev/null
chat=$(field id)
message=$(python3 -c 'import json,sys; print(json.dumps({"text": "`tool:edit " + sys.argv[1] + "`"}))' "$edit")
code=$(status POST "/api/v1/chats/$chat/messages" "$message")
[ "$code" = 200 ] || [ "$code" = 201 ] || [ "$code" = 202 ] || fail "the edit's message: HTTP $code $(cat "$work/body")"
ended=""
for _ in $(seq 1 75); do
  health_within 1
  status GET "/api/v1/chats/$chat" >/dev/null
  [ "$(field status)" != running ] && ended=1 && break
  sleep 0.2
done
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
[ -n "$ended" ] || fail "the edit's chat did not end within 15 s"
kill -0 "$pid" 2>/dev/null || fail "the monolith died of the edit"
grep -q 'write at most' "$work/body" || fail "the edit's answer: $(head -c 600 "$work/body")"
[ "$(sha256sum <"$work/ws/big.txt")" = "$before_sum" ] || fail "the edit changed the file"
grown_mib=$((($(cat "$work/peak_kib") - baseline_kib) / 1024))
[ "$grown_mib" -lt 256 ] || fail "the edit grew the monolith by $grown_mib MiB"
echo "ok   edit: refused, the file unchanged, the monolith grew by $grown_mib MiB at most"
echo "hardening_monolith: ok"
