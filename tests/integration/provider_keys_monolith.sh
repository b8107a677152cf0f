#!/usr/bin/env bash
# Provider keys kept in settings, on a real monolith whose model is a stand-in Anthropic provider
# (fake_llm_provider.py, which logs the SHA-256 of the key each request carried, never the key):
#   - `reliant provider-key set anthropic` (the key on stdin) stores the user's key (PUT
#     /api/v1/settings/provider-keys/anthropic); `provider-key list` names it; no answer ever holds
#     it (the listing names the provider only), and neither the data directory (the database,
#     its journal) nor the log does: it is sealed under the data directory's secrets.key;
#   - the user's chats call the provider with their key; once deleted, with the server's;
#   - the key survives a restart; a monolith started with another --secrets-key-file fails the
#     run with a clear error instead of sending garbage;
#   - bad input is refused without echoing it: an unknown provider, a key too short, a key with
#     a line break; a secrets key file that is not 64 hex digits stops the server at start.
# Usage: provider_keys_monolith.sh REL_BINARY
set -euo pipefail
reliant=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/monolith_lib.sh"
monolith_setup

start_fake_provider
printf 'sk-ant-server-key\n' >"$work/key"
monolith_args=(--llm-provider anthropic --llm-base-url "$provider_url"
  --llm-api-key-file "$work/key" --model claude-test)
start_monolith

sha() { printf '%s' "$1" | sha256sum | cut -c1-16; }
user_key='sk-ant-USER-7f3a9c2e1b'

# The key of the provider's last request (its SHA-256 prefix), once a chat's message is answered.
asked_with() {  # TEXT
  chat=$(rest POST /api/v1/chats '{"title":"k"}' | json 'd["id"]')
  rest POST "/api/v1/chats/$chat/messages" "{\"text\":\"$1\"}" >/dev/null
  for _ in $(seq 1 100); do grep -q "$1" "$work/provider.log" 2>/dev/null && break; sleep 0.1; done
  python3 - "$work/provider.log" "$1" <<'PY'
import json, sys
mine = [json.loads(l) for l in open(sys.argv[1]) if sys.argv[2] in l]
print(mine[-1]["key_sha256"] if mine else "none")
PY
}

# 1. Store it with the CLI, from standard input: never shown again.
printf '%s\n' "$user_key" | "$reliant" provider-key set anthropic --server "$api" --token "$token" \
  >"$work/cli.out" 2>&1 || fail "provider-key set: $(cat "$work/cli.out")"
"$reliant" provider-key list --server "$api" --token "$token" >>"$work/cli.out" 2>&1 ||
  fail "provider-key list: $(cat "$work/cli.out")"
grep -q '^anthropic  *kept' "$work/cli.out" || fail "provider-key list: $(cat "$work/cli.out")"
grep -q "$user_key" "$work/cli.out" && fail "the CLI printed the key"
listing=$(rest GET /api/v1/settings/provider-keys)
[ "$(echo "$listing" | json '[k["provider"] for k in d["provider_keys"]]')" = "['anthropic']" ] ||
  fail "listing: $listing"
for path in /api/v1/settings/provider-keys /api/v1/settings; do
  rest GET "$path" | grep -q "$user_key" && fail "$path returned the key"
done

# 2. The user's chats ask with it.
[ "$(asked_with "first question")" = "$(sha "$user_key")" ] || fail "the chat did not use the user's key"
grep -rqa "$user_key" "$data" && fail "the key is in the data directory in the clear"
grep -qa "$user_key" "$work/monolith.log" && fail "the key is in the log"
[ -f "$data/secrets.key" ] && [ "$(stat -c %a "$data/secrets.key")" = 600 ] ||
  fail "no private secrets.key in the data directory"

# 3. It survives a restart; another secrets key cannot open it.
stop_monolith
start_monolith
[ "$(asked_with "after a restart")" = "$(sha "$user_key")" ] || fail "the key did not survive a restart"
stop_monolith
openssl rand -hex 32 >"$work/other.key"
monolith_args+=(--secrets-key-file "$work/other.key")
start_monolith
chat=$(rest POST /api/v1/chats '{"title":"k"}' | json 'd["id"]')
run=$(rest POST "/api/v1/chats/$chat/messages" '{"text":"under another key"}' | json 'd["run_id"]')
for _ in $(seq 1 100); do
  state=$(rest GET "/api/v1/runs/$run" | json 'd.get("status","")')
  [ "$state" = failed ] && break
  sleep 0.1
done
[ "$state" = failed ] && grep -q 'sealed under another server secrets key' "$work/body" ||
  fail "a key sealed under another secrets key: $state $(cat "$work/body")"
grep -q "under another key" "$work/provider.log" && fail "the provider was called anyway"

# 4. Delete it (under this key it can be replaced or deleted): the server's key is used again.
rest DELETE /api/v1/settings/provider-keys/anthropic >/dev/null
[ "$(status)" = 200 ] || fail "delete: $(status)"
rest DELETE /api/v1/settings/provider-keys/anthropic >/dev/null
[ "$(status)" = 404 ] || fail "a second delete: $(status)"
[ "$(asked_with "without a key of mine")" = "$(sha sk-ant-server-key)" ] || fail "the server's key was not used"

# 5. Bad input, refused without an echo.
rest PUT /api/v1/settings/provider-keys/gemini '{"api_key":"abcdefgh12345"}' >/dev/null
[ "$(status)" = 400 ] && grep -q 'no provider \\"gemini\\"' "$work/body" || fail "unknown provider: $(cat "$work/body")"
rest PUT /api/v1/settings/provider-keys/openai '{"api_key":"short"}' >/dev/null
[ "$(status)" = 400 ] && ! grep -q short "$work/body" || fail "short key: $(cat "$work/body")"
rest PUT /api/v1/settings/provider-keys/openai '{"api_key":"sk-line\nbreak-secret"}' >/dev/null
[ "$(status)" = 400 ] && ! grep -q break-secret "$work/body" || fail "key with a line break: $(cat "$work/body")"

# 6. A secrets key file that is not one stops the server at start, saying what is wrong.
stop_monolith
printf 'not-a-key\n' >"$work/bad.key"
code=0
"$reliant" monolith --data-dir "$data" --api-port "$port" --grpc-port $((port + 1)) --disable-tls \
  --working-dir "$work/ws" --secrets-key-file "$work/bad.key" >"$work/bad.out" 2>&1 || code=$?
[ "$code" = 2 ] && grep -q "bad.key: its first line must be 64 hex digits" "$work/bad.out" ||
  fail "a bad secrets key file: exit $code, $(cat "$work/bad.out")"
echo "provider_keys_monolith: ok"
