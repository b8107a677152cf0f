#!/usr/bin/env bash
# A schedule on the distributed topology, real processes on loopback: Postgres and nats-server
# (the fixtures), a gateway, a daemon, two workers — each runs the trigger scheduler — and two
# api replicas. A schedule every 2 s runs a command on the daemon. After its first firings one
# worker is killed with SIGKILL; the other goes on (catch-up all: an instant it was late for
# still fires; overlap allow: a slow run never makes one skip). Every instant fires exactly
# once: one firing row per instant, one run per firing, the instants consecutive (none missed,
# none twice), the runs completed, each command run once.
#   triggers_distributed.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
integration_setup triggers
"$reliant" admin user create --email dev@example.com --db-url "$url" >/dev/null
token=$("$reliant" admin token create --user dev@example.com --name laptop --db-url "$url" | tail -n 1)

base=$(free_port_block 20)
start_gateway gw "$base" --heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6
start_daemon laptop "$token" "$base"
start_servers "$base" 2
wait_daemons_active 1
api="http://127.0.0.1:$((base + 12))"
call() {  # METHOD PATH BODY → the JSON answer (fails on a non-2xx status)
  curl -sf -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary "$3" "$api$2" || fail "$1 $2 failed"
}
project=$(call POST /api/v1/projects '{"name":"p"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
call POST "/api/v1/projects/$project/workflows" \
  "$(python3 -c 'import json,sys; print(json.dumps({"source": open(sys.argv[1]).read()}))' "$here/triggers/note.yaml")" >/dev/null
trigger=$(call POST /api/v1/triggers "{\"name\":\"every2s\",\"project_id\":\"$project\",\"workflow\":\"note\",
  \"schedule\":{\"interval\":\"2s\",\"catch_up\":\"all\",\"overlap\":\"allow\"},\"params\":{\"line\":\"tick\",\"log\":\"ticks.txt\"}}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["trigger"]["id"])')

launched() { q "SELECT COUNT(*) FROM trigger_firings WHERE trigger_id = '$trigger' AND status = 'launched'"; }
for _ in $(seq 1 100); do [ "$(launched)" -ge 2 ] && break; sleep 0.1; done
[ "$(launched)" -ge 2 ] || fail "the schedule did not fire: $(q "SELECT status, detail FROM trigger_firings")"
kill -9 "$pid_w1"
echo "killed worker w1 after $(launched) firings"
for _ in $(seq 1 200); do [ "$(launched)" -ge 7 ] && break; sleep 0.1; done
call POST "/api/v1/triggers/$trigger/disable" '{}' >/dev/null
[ "$(launched)" -ge 7 ] || fail "after the kill: $(launched) firings"

# Let the last runs finish, then check every instant once, one completed run each.
for _ in $(seq 1 150); do
  [ "$(q "SELECT COUNT(*) FROM workflow_runs WHERE status = 'running'")" = 0 ] && break
  sleep 0.1
done
q "SELECT f.instant_ms, f.run_id, r.status FROM trigger_firings f LEFT JOIN workflow_runs r ON r.id = f.run_id
   WHERE f.trigger_id = '$trigger' AND f.status = 'launched' ORDER BY f.instant_ms" >"$work/firings"
python3 - "$work/firings" <<'PY' || fail "firings: $(cat "$work/firings"; q "SELECT firing_key, status, detail FROM trigger_firings")"
import sys
rows = [l.split("|") for l in open(sys.argv[1]).read().split()]
instants = [int(r[0]) for r in rows]
assert len(set(instants)) == len(instants), "an instant fired twice"
assert all(b - a == 2000 for a, b in zip(instants, instants[1:])), f"instants missed: {instants}"
assert len({r[1] for r in rows}) == len(rows), "two firings share a run"
assert all(r[2] == "completed" for r in rows), f"runs: {[r[2] for r in rows]}"
print(f"{len(rows)} instants, each fired once, 2 s apart, every run completed")
PY
[ "$(q "SELECT COUNT(*) FROM workflow_runs WHERE input_json LIKE '%$trigger%'")" = "$(launched)" ] ||
  fail "runs of the trigger: $(q "SELECT COUNT(*) FROM workflow_runs WHERE input_json LIKE '%$trigger%'") for $(launched) firings"
ticks=$(wc -l <"$work/laptop/ticks.txt")
[ "$ticks" = "$(launched)" ] || fail "$ticks commands ran for $(launched) firings"
echo PASS
