#!/usr/bin/env bash
# A terminal left idle for two minutes on a real monolith, followed the way the web app follows
# one (the api long-polls its output over and over), still runs a command (issue 38: each
# long-poll that timed out leaked a waiting reader, and after eight of them, about 18 s, every
# read failed and the socket closed).
#   terminal_idle.sh RELIANT_BINARY [SECONDS]
set -euo pipefail
reliant=$1
seconds=${2:-120}
here=$(dirname "$0")
source "$here/monolith_lib.sh"
monolith_setup
start_monolith
token=$(cat "$data/auth/token")
daemon_id=$(embedded_daemon_id "$token") || fail "no daemon"
node "$here/../interop/terminal_sessions.mjs" idle "$seconds" "$api" - "$token" "$daemon_id" \
  >"$work/idle.log" 2>&1 || fail "the idle terminal: $(cat "$work/idle.log")"
cat "$work/idle.log"
