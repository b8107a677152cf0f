#!/usr/bin/env bash
# Issue 38, finding 13: a repository's .reliant/mcp.json started a program of the repository's
# with no approval, and ${OPENAI_API_KEY} in it expanded to the server's real key. On a real
# monolith (its embedded daemon) and through `reliant mcp`:
#   1. The workspace's server is UNTRUSTED and never starts, however its tools are asked for;
#      the user's own ~/.reliant/mcp.json server runs beside it.
#   2. `reliant mcp approve` through the API (the daemon's MCPService.ApproveConfigFile) with the
#      hash `reliant mcp files` shows; the server then starts, and ${OPENAI_API_KEY:-unset} in the
#      workspace file reads "unset", never the key; the user's own server, whose file asks for
#      the key, keeps it across the reload (the monolith scrubbed its environment meanwhile).
#   3. A changed file is UNTRUSTED again after a reload, and its old hash is refused (409).
#   4. The local `reliant mcp servers` honours the same approvals; `approve --local` adds one.
# Bounded in time; stops by itself.
#   mcp_trust.sh RELIANT_BINARY
set -euo pipefail
reliant=$(realpath "$1")
source "$(dirname "$0")/mcp_monolith_lib.sh"
mcp_setup
ws=$work/ws
mkdir -p "$ws/.reliant"
cat >"$HOME/.reliant/mcp.json" <<JSON
{"mcpServers": {"mine": {"command": "python3",
  "args": ["$probe", "--marker", "$work/mine.started", "key=\${OPENAI_API_KEY}"]}}}
JSON
cat >"$ws/.reliant/mcp.json" <<JSON
{"mcpServers": {"repo": {"command": "python3",
  "args": ["$probe", "--marker", "$work/repo.started", "key=\${OPENAI_API_KEY:-unset}"],
  "env": {"PROBE_KEY": "\${OPENAI_API_KEY:-unset}"}}}}
JSON
file=$ws/.reliant/mcp.json
start_monolith OPENAI_API_KEY=sk-the-servers-secret-key
rest() {  # METHOD PATH [BODY] → the body in $work/rest.json, the status in $status
  status=$(curl -s -o "$work/rest.json" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' ${3:+-d "$3"} "$api$2")
}
json() { python3 -c "import json,sys; d=json.load(open('$work/rest.json')); print($1)"; }
rest GET /api/v1/daemons
daemon=$(json 'd["daemons"][0]["id"]')

# 1. Untrusted: listed, never started, even when its tools are asked for (tool_specs does this
#    for every chat's turn).
rest GET "/api/v1/daemons/$daemon/mcp/tools"
[ "$status" = 200 ] || fail "GET mcp/tools: $status $(cat "$work/rest.json")"
grep -q mcp__mine__argv "$work/rest.json" || fail "the user's own server did not run: $(cat "$work/rest.json")"
grep -q mcp__repo__ "$work/rest.json" && fail "the workspace's server was listed: $(cat "$work/rest.json")"
rest GET "/api/v1/daemons/$daemon/mcp"
[ "$(json '[s["status"] for s in d["servers"] if s["name"]=="repo"][0]')" = UNTRUSTED ] ||
  fail "repo is not UNTRUSTED: $(cat "$work/rest.json")"
json '[s.get("error", "") for s in d["servers"] if s["name"]=="repo"][0]' | grep -q "reliant mcp approve $file --sha256 " ||
  fail "the status does not say how to approve: $(cat "$work/rest.json")"
out=$("$reliant" chat --server "$api" --data-dir "$data" 'run `tool:mcp__repo__argv {}`' 2>&1) || true
[ -e "$work/repo.started" ] && fail "the workspace's server started without approval: $(cat "$work/repo.started")"
[ -e "$work/mine.started" ] || fail "the user's own server never started"
echo "ok   untrusted: repo is UNTRUSTED and never started (a chat asked for its tool), mine runs"

# 2. Approved through the API with the hash `reliant mcp files` shows.
files=$("$reliant" mcp files --server "$api" --data-dir "$data") || fail "mcp files: $files"
sha=$(sed -n "s|^$file  project  UNTRUSTED  sha256 \([0-9a-f]*\)\$|\1|p" <<<"$files")
[ ${#sha} = 64 ] || fail "no hash for $file in: $files"
[ "$sha" = "$(sha256sum "$file" | cut -d' ' -f1)" ] || fail "the hash shown is not the file's"
grep -q "repo: python3 $probe" <<<"$files" || fail "the file's server is not shown for review: $files"
out=$("$reliant" mcp approve "$file" --sha256 "$sha" --server "$api" --data-dir "$data") ||
  fail "approve: $out"
grep -q "APPROVED" <<<"$out" || fail "approve answered: $out"
grep -q "\"sha256\": \"$sha\"" "$HOME/.reliant/mcp-approvals.json" || fail "no approval kept: $(cat "$HOME/.reliant/mcp-approvals.json")"
out=$("$reliant" chat --server "$api" --data-dir "$data" \
  'run `tool:mcp__repo__argv {"names":["PROBE_KEY","OPENAI_API_KEY"]}`' 2>&1) || fail "chat: $out"
[ -e "$work/repo.started" ] || fail "the approved server did not start: $out"
grep -q 'sk-the-servers-secret-key' "$work/repo.started" && fail "the server's key reached the repository's program: $(cat "$work/repo.started")"
grep -q 'sk-the-servers-secret-key' <<<"$out" && fail "the server's key reached the repository's program: $out"
grep -q '"PROBE_KEY\\*": \\*"unset' <<<"$out" || fail "the tool did not answer with its environment: $out"
grep -q '"key=unset"' "$work/repo.started" || fail "\${OPENAI_API_KEY:-unset} did not read unset: $(cat "$work/repo.started")"
grep -q '"PROBE_KEY": "unset"' "$work/repo.started" || fail "env PROBE_KEY: $(cat "$work/repo.started")"
# The approval reloaded the files after the monolith had scrubbed its secrets from its
# environment: the user's own server still has the key its file asked for, unchanged.
out=$("$reliant" chat --server "$api" --data-dir "$data" 'run `tool:mcp__mine__argv {}`' 2>&1) ||
  fail "chat: $out"
grep -q '\*\*\*\*' "$work/mine.started" && fail "the user's server restarted with a scrubbed key: $(cat "$work/mine.started")"
[ "$(grep -c 'key=sk-the-servers-secret-key' "$work/mine.started")" = 1 ] ||
  fail "the user's server lost its key or restarted: $(cat "$work/mine.started")"
echo "ok   approved: repo started with key=unset (the server's key never reached it); mine kept its own"

# 3. A changed file needs approval again; a stale hash is refused.
echo ' ' >>"$file"
rest POST "/api/v1/daemons/$daemon/mcp/reload"
for _ in $(seq 1 50); do
  rest GET "/api/v1/daemons/$daemon/mcp"
  [ "$(json '[s["status"] for s in d["servers"] if s["name"]=="repo"][0]')" = UNTRUSTED ] && break
  sleep 0.1
done
[ "$(json '[s["status"] for s in d["servers"] if s["name"]=="repo"][0]')" = UNTRUSTED ] ||
  fail "a changed file kept its approval: $(cat "$work/rest.json")"
rest POST "/api/v1/daemons/$daemon/mcp/files/approve" "{\"file\":\"$file\",\"sha256\":\"$sha\"}"
[ "$status" = 409 ] || fail "a stale hash: $status $(cat "$work/rest.json")"
grep -q "has changed" "$work/rest.json" || fail "a stale hash: $(cat "$work/rest.json")"
echo "ok   changed: UNTRUSTED again after a reload; the old hash refused (HTTP 409)"

# 4. The local commands read the same approvals.
kill -TERM "$pid" && wait "$pid" 2>/dev/null || true
pid=""
set +e
out=$(OPENAI_API_KEY=sk-the-users-key "$reliant" mcp servers --dir "$ws" --timeout 20 2>&1); code=$?
set -e
[ "$code" = 1 ] && grep -Eq "^repo +UNTRUSTED" <<<"$out" || fail "local servers (exit $code): $out"
sha=$(sha256sum "$file" | cut -d' ' -f1)
out=$("$reliant" mcp approve "$file" --sha256 "$sha" --local) || fail "approve --local: $out"
out=$(OPENAI_API_KEY=sk-the-users-key "$reliant" mcp servers --dir "$ws" --timeout 20 2>&1) || fail "local servers after approval: $out"
grep -Eq "^repo +HEALTHY" <<<"$out" || fail "local servers after approval: $out"
echo "ok   local: reliant mcp servers said UNTRUSTED, then HEALTHY after approve --local"
echo PASS
