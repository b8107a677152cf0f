#!/usr/bin/env bash
# A user's updates are kept a week: once older ones are pruned, a client that resumes its stream
# from before the oldest kept is told to read its state afresh (`event: resync`, then the end of
# the stream); one that resumes from the oldest kept reads on. The week is
# made to pass by ageing the stored updates in the monolith's database (SQLite, in WAL mode:
# another process may write it while the monolith runs).
#   updates_pruned.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
source "$(dirname "$0")/monolith_lib.sh"
monolith_setup
start_monolith
auth=(-H "Authorization: Bearer $token")
post() { curl -sf "${auth[@]}" -X POST -H 'Content-Type: application/json' --data "$2" "$api$1"; }
stream() {  # SINCE: the update stream from SINCE for 2 s
  curl -s -N --max-time 2 "${auth[@]}" "$api/api/v1/updates?since_seq=$1" || true
}

post /api/v1/chats '{"title":"first"}' >/dev/null || fail "create a chat"
head=$(curl -sf "${auth[@]}" "$api/api/v1/updates/head" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seq"])')
[ "$head" -ge 1 ] && [ "$head" -lt 511 ] || fail "the head: $head"
# A week and more ago, and the next number 512: the next update crosses a multiple of 256, and
# its append prunes every update older than a week.
python3 - "$data/reliant.db" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
db.execute("UPDATE user_events SET created_at_ms = 0")
db.execute("UPDATE user_event_heads SET last_seq = 511")
db.commit()
EOF
post /api/v1/chats '{"title":"second"}' >/dev/null || fail "create a second chat"
left=$(python3 - "$data/reliant.db" <<'EOF'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1], timeout=10).execute("SELECT MIN(seq), COUNT(*) FROM user_events").fetchone())
EOF
)
[ "$left" = "(512, 1)" ] || fail "after the pruning, the updates kept (oldest, count): $left"

stream 0 >"$work/from0"
grep -q '^event: resync' "$work/from0" || fail "a stream from 0 was not told to resync: $(cat "$work/from0")"
grep -q '^event: chat_created' "$work/from0" && fail "a stream from 0 delivered after a gap: $(cat "$work/from0")"
stream 511 >"$work/from511"
grep -q '^event: chat_created' "$work/from511" || fail "a stream from 511: $(cat "$work/from511")"
grep -q '^event: resync' "$work/from511" && fail "a stream from the oldest kept was told to resync"
curl -sf "$api/health" >/dev/null || fail "the monolith went down"
echo "PASS: pruned updates: a stream from before them is told to resync, one from the head reads on"
