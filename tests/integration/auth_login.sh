#!/usr/bin/env bash
# Signing in and registering daemons (spec S0.3–S0.10, S1.15–S1.16), real processes on loopback:
# Postgres and nats-server (the fixtures), two gateways and an api server.
#  1. `reliant auth login` opens "the browser" (tests/integration/fake_browser.py as $BROWSER,
#     which fills the sign-in form like a person) and saves the token it trades the code for;
#     a wrong password gets no token. `reliant workflow list` and `run list` then need no flag.
#  2. The server's side by hand: redirects only to loopback, a code works once and only with
#     the PKCE verifier of whoever started the sign-in.
#  3. `daemon start` with a login and no daemon credentials registers itself (its own token)
#     and connects.
#  4. Auto-recovery: the daemon's token is revoked and its gateway killed; on reconnecting it is
#     refused, deletes the stale credentials, registers again with the login and connects.
#  5. `daemon register` makes a token from the login; `auth logout` revokes the login's token.
#   auth_login.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
integration_setup auth
email=dev@example.com
"$reliant" admin user create --email "$email" --db-url "$url" >/dev/null
echo "correct horse battery" | "$reliant" admin user set-password --user "$email" --db-url "$url" >/dev/null
[ "$(q "SELECT password_hash LIKE 'pbkdf2-sha256\$600000\$%' FROM users WHERE email = '$email'")" = t ] \
  || fail "the password is not stored as a PBKDF2 hash"

base=$(free_port_block 12)
start_gateway gw1 "$base" --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
start_gateway gw2 $((base + 3)) --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
"$reliant" server api --db-url "$url" --nats-url "$nats_url" --disable-tls --bind-address 127.0.0.1 \
  --api-port $((base + 6)) --health-port $((base + 7)) --grpc-port $((base + 8)) \
  >"$work/api.log" 2>&1 &
pids+=($!)
wait_ready $((base + 7)) api
api="http://127.0.0.1:$((base + 6))"
gateways="http://127.0.0.1:$base,http://127.0.0.1:$((base + 3))"
export HOME="$work/home"
mkdir -p "$HOME"
export BROWSER="$(cd "$(dirname "$0")" && pwd)/fake_browser.py" FAKE_BROWSER_EMAIL="$email" \
  FAKE_BROWSER_LOG="$work/browser.log"

# 1. Browser sign-in; then a wrong password, which must not produce a login.
FAKE_BROWSER_PASSWORD="correct horse battery" "$reliant" auth login --server "$api" >"$work/login.log" 2>&1 \
  || fail "auth login failed: $(cat "$work/login.log")"
login_file="$HOME/.config/reliant/auth/credentials.json"
[ "$(stat -c %a "$login_file")" = 600 ] || fail "the login file is not 0600"
login_token=$(sed -n 's/.*"token": "\(rlnt_pat_[^"]*\)".*/\1/p' "$login_file")
[ -n "$login_token" ] || fail "no token in $login_file: $(cat "$login_file")"
curl -sf -H "Authorization: Bearer $login_token" "$api/api/v1/me" | grep -q '"user_id"' \
  || fail "the login's token does not work"
"$reliant" auth status | grep -q "as $email" || fail "auth status: $("$reliant" auth status)"
mv "$login_file" "$work/login.json"
if FAKE_BROWSER_PASSWORD=wrong "$reliant" auth login --server "$api" --timeout 3 >"$work/wrong.log" 2>&1; then
  fail "a wrong password signed in"
fi
# The browser outlives the 3 s login: its refused POST (a slow password hash) may end later.
for _ in $(seq 1 100); do grep -q 'refused: 401' "$work/browser.log" && break; sleep 0.1; done
grep -q 'refused: 401' "$work/browser.log" || fail "the wrong password was not refused: $(cat "$work/browser.log")"
[ ! -e "$login_file" ] || fail "a refused sign-in saved a login"
mv "$work/login.json" "$login_file"
echo "auth login: signed in through the browser; a wrong password got nothing"
# The client commands take the server and the token from that login alone.
out=$(cd "$work" && env -u RELIANT_TOKEN -u RELIANT_SERVER_URL -u RELIANT_SERVER -u DATA_DIR \
  "$reliant" workflow list 2>&1) || fail "workflow list with the browser login: $out"
grep -qE '^builtin://agent +builtin ' <<<"$out" || fail "workflow list: $out"
out=$(cd "$work" && env -u RELIANT_TOKEN -u RELIANT_SERVER_URL -u RELIANT_SERVER -u DATA_DIR \
  "$reliant" run list 2>&1) || fail "run list with the browser login: $out"
echo "client commands: workflow list and run list with the browser login alone"

# 2. The sign-in page and the code trade, by hand.
verifier=$(head -c 48 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
challenge=$(printf %s "$verifier" | openssl dgst -binary -sha256 | base64 | tr '+/' '-_' | tr -d '=\n')
redirect="http://127.0.0.1:9/callback"
status=$(curl -s -o /dev/null -w '%{http_code}' \
  "$api/cli/login?redirect_uri=https%3A%2F%2Fevil.example%2Fcb&state=s&code_challenge=$challenge")
[ "$status" = 400 ] || fail "a non-loopback redirect_uri got $status, not 400"
location=$(curl -s -o /dev/null -w '%{redirect_url}' --data-urlencode "email=$email" \
  --data-urlencode "password=correct horse battery" --data-urlencode "redirect_uri=$redirect" \
  --data-urlencode "state=xyz" --data-urlencode "code_challenge=$challenge" "$api/cli/login")
code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$location")
[ -n "$code" ] && grep -q 'state=xyz' <<<"$location" || fail "no code in the redirect: '$location'"
trade() {  # VERIFIER → HTTP status of the code trade
  curl -s -o "$work/trade.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    --data "{\"code\":\"$code\",\"code_verifier\":\"$1\",\"redirect_uri\":\"$redirect\"}" \
    "$api/api/v1/auth/cli/token"
}
wrong_verifier=$(printf 'x%.0s' $(seq 1 50))
[ "$(trade "$wrong_verifier")" = 401 ] || fail "a wrong PKCE verifier was accepted: $(cat "$work/trade.json")"
[ "$(trade "$verifier")" = 201 ] || fail "the right verifier was refused: $(cat "$work/trade.json")"
grep -q '"token":"rlnt_pat_' "$work/trade.json" || fail "no token in the trade: $(cat "$work/trade.json")"
[ "$(trade "$verifier")" = 401 ] || fail "a code worked twice"
echo "cli login: loopback redirects only; the code works once, with its verifier only"

# 3. `daemon start` with the login and no daemon credentials registers itself.
mkdir -p "$work/workspace"
"$reliant" --server "$api" daemon start --name laptop --grpc-url "$gateways" \
  --working-dir "$work/workspace" --heartbeat-interval 1 --stale-timeout 3 --backoff-max 1 \
  >"$work/daemon.log" 2>&1 &
pids+=($!)
daemon_file="$HOME/.config/reliant/auth/reliant-daemon.json"
active_gateway() { q "SELECT gateway_id FROM daemons WHERE name = 'laptop' AND status = 'active'"; }
holder=""
for _ in $(seq 1 100); do holder=$(active_gateway); [ -n "$holder" ] && break; sleep 0.1; done
[ -n "$holder" ] || fail "the auto-registered daemon did not connect"
grep -q 'registering it' "$work/daemon.log" || fail "the daemon did not say it auto-registered"
first_token=$(sed -n 's/.*"token": "\(rlnt_pat_[^"]*\)".*/\1/p' "$daemon_file")
[ -n "$first_token" ] && [ "$first_token" != "$login_token" ] || fail "the daemon has no token of its own"
first_id=$(sed -n 's/.*"token_id": "\([^"]*\)".*/\1/p' "$daemon_file")
[ "$(q "SELECT name FROM personal_access_tokens WHERE id = '$first_id'")" = "daemon $(hostname)" ] \
  || fail "the daemon's token is not named for this host"
echo "daemon start: auto-registered with the login, connected to $holder"

# 4. Revoke the daemon's token, kill its gateway: refused on reconnect → registers again.
"$reliant" admin token revoke "$first_id" --db-url "$url" >/dev/null
if [ "$holder" = gw1 ]; then kill -9 "${pids[0]}"; else kill -9 "${pids[1]}"; fi
recovered=""
for _ in $(seq 1 300); do
  recovered=$(active_gateway)
  [ -n "$recovered" ] && [ "$recovered" != "$holder" ] && break
  sleep 0.1
done
[ -n "$recovered" ] && [ "$recovered" != "$holder" ] || fail "the daemon did not come back on the other gateway"
grep -q 'registered again' "$work/daemon.log" || fail "the daemon did not register again"
second_token=$(sed -n 's/.*"token": "\(rlnt_pat_[^"]*\)".*/\1/p' "$daemon_file")
[ -n "$second_token" ] && [ "$second_token" != "$first_token" ] || fail "the stale token was kept"
echo "auto-recovery: refused after the revocation, registered again, active on $recovered"

# 5. `daemon register` with the login; `auth logout` revokes the login's token.
"$reliant" --server "$api" daemon register >"$work/register.log" 2>&1 || fail "daemon register: $(cat "$work/register.log")"
[ "$(q "SELECT COUNT(*) FROM personal_access_tokens WHERE name = 'daemon $(hostname)' AND revoked_at_ms IS NULL")" = 2 ] \
  || fail "daemon register did not add a token"
"$reliant" auth logout >/dev/null
[ ! -e "$login_file" ] || fail "logout kept the login file"
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $login_token" "$api/api/v1/me")
[ "$status" = 401 ] || fail "the logged-out token still works ($status)"
echo "PASS: browser sign-in, code trade with PKCE, daemon auto-registration and auto-recovery, logout"
