#!/usr/bin/env bash
# The client commands use the saved login (`reliant auth login`), on a real monolith: with no
# --server, --token, RELIANT_TOKEN or data dir at hand, `reliant chat`, `run list`, `workflow
# list` and `daemon list` reach the server the login names with its token; a wrong saved token
# is refused with a message naming the login and exit status 1; --token and RELIANT_TOKEN come
# before the login; a login for another server leaves the data dir's token in use;
# RELIANT_SERVER still names the server but warns (RELIANT_SERVER_URL is the variable); after
# `auth logout` the commands say how to sign in.
#   cli_login.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
source "$(dirname "$0")/monolith_lib.sh"
monolith_setup
echo one >"$work/ws/alpha.txt"
start_monolith
# A home of its own (the login lives there), no variable that names a server or a token, and a
# folder without ./data: only the login can tell the commands where and who.
export HOME="$work/home"
mkdir -p "$HOME" "$work/elsewhere"
unset RELIANT_TOKEN RELIANT_SERVER_URL RELIANT_SERVER DATA_DIR XDG_CONFIG_HOME
cd "$work/elsewhere"
login_file="$HOME/.config/reliant/auth/credentials.json"

# Before the login: nothing to go on, and the error says how to sign in (exit 2: arguments).
status=0
out=$("$reliant" run list 2>&1) || status=$?
[ "$status" = 2 ] || fail "run list without any credentials exited $status: $out"
grep -qF "reliant auth login" <<<"$out" || fail "the error does not say how to sign in: $out"

printf '%s\n' "$token" | "$reliant" auth login --server "$api/" --token >"$work/login.log" 2>&1 \
  || fail "auth login: $(cat "$work/login.log")"
[ -s "$login_file" ] || fail "no login saved"

# With the login alone: a chat, the runs, the workflows and the daemons.
out=$("$reliant" chat "list the files" 2>&1) || fail "chat with the saved login: $out"
grep -qF "alpha.txt" <<<"$out" || fail "the chat's answer: $out"
chat_run=$(sed -n 's/^chat .* · run \([^ ]*\)$/\1/p' <<<"$out")
[ -n "$chat_run" ] || fail "no run id in the chat's output: $out"
out=$("$reliant" run list 2>&1) || fail "run list with the saved login: $out"
grep -qF "$chat_run" <<<"$out" || fail "run list misses the chat's run $chat_run: $out"
out=$("$reliant" workflow list 2>&1) || fail "workflow list with the saved login: $out"
grep -qE '^builtin://agent +builtin +Chat agent' <<<"$out" || fail "workflow list: $out"
out=$("$reliant" daemon list 2>&1) || fail "daemon list with the saved login: $out"
grep -q "local" <<<"$out" || fail "daemon list: $out"
# RELIANT_SERVER_URL is the variable; RELIANT_SERVER still works, with a one-line warning.
out=$(RELIANT_SERVER_URL="$api" "$reliant" run list 2>&1) || fail "RELIANT_SERVER_URL: $out"
grep -q "warning" <<<"$out" && fail "RELIANT_SERVER_URL warned: $out"
out=$(RELIANT_SERVER="$api" "$reliant" workflow list 2>"$work/legacy.err") \
  || fail "RELIANT_SERVER: $out $(cat "$work/legacy.err")"
grep -qF "builtin://agent" <<<"$out" || fail "workflow list with RELIANT_SERVER: $out"
[ "$(wc -l <"$work/legacy.err")" = 1 ] &&
  grep -qF "warning: RELIANT_SERVER is deprecated: set RELIANT_SERVER_URL instead" "$work/legacy.err" \
  || fail "RELIANT_SERVER's warning: $(cat "$work/legacy.err")"
echo "ok: chat, run list, workflow list and daemon list with the saved login alone"

# --token and RELIANT_TOKEN come before the login, and a refusal names where the token came from.
bogus="rlnt_pat_$(printf 'x%.0s' $(seq 1 43))"
status=0
out=$("$reliant" run list --token "$bogus" 2>&1) || status=$?
[ "$status" = 1 ] && grep -qF "refused the token from --token" <<<"$out" \
  || fail "a wrong --token (exit $status): $out"
status=0
out=$(RELIANT_TOKEN="$bogus" "$reliant" run list 2>&1) || status=$?
[ "$status" = 1 ] && grep -qF "refused the token from RELIANT_TOKEN" <<<"$out" \
  || fail "a wrong RELIANT_TOKEN (exit $status): $out"

# A wrong saved token: a clear error and exit status 1, for every command.
cp "$login_file" "$work/login.json"
python3 - "$login_file" "$bogus" <<'PY'
import json, sys
path, bogus = sys.argv[1], sys.argv[2]
login = json.load(open(path))
login["token"] = bogus
json.dump(login, open(path, "w"))
PY
for command in "run list" "workflow list" "chat hello"; do
  status=0
  # shellcheck disable=SC2086  # the words of the command
  out=$("$reliant" $command 2>&1) || status=$?
  [ "$status" = 1 ] || fail "$command with a wrong saved token exited $status: $out"
  grep -qF "refused the token from the saved login in $login_file (server answered 401" <<<"$out" \
    && grep -qF "sign in again with \`reliant auth login --server $api\`" <<<"$out" \
    || fail "$command with a wrong saved token said: $out"
done
echo "ok: a wrong saved token is refused with the login named; --token and RELIANT_TOKEN come first"

# A login for another server: its token stays there, and the data dir's serves this one.
python3 - "$work/login.json" "$login_file" <<'PY'
import json, sys
login = json.load(open(sys.argv[1]))
login["server"] = "http://127.0.0.1:9"
json.dump(login, open(sys.argv[2], "w"))
PY
out=$("$reliant" run list --server "$api" --data-dir "$data" 2>&1) \
  || fail "the data dir's token beside another server's login: $out"
status=0
out=$("$reliant" run list --server "$api" 2>&1) || status=$?
[ "$status" = 2 ] && grep -qF "the saved login is for http://127.0.0.1:9" <<<"$out" \
  || fail "no token for this server (exit $status): $out"

# Logged out: the commands say how to sign in again.
cp "$work/login.json" "$login_file"
"$reliant" auth logout >/dev/null || fail "auth logout"
status=0
out=$("$reliant" chat hello 2>&1) || status=$?
[ "$status" = 2 ] && grep -qF "reliant auth login" <<<"$out" || fail "chat after logout (exit $status): $out"
echo "PASS: the saved login serves the client commands; flags and variables come first"
