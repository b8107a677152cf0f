#!/usr/bin/env bash
# Real processes, real Postgres: two `reliant server worker`s share a chain workflow; the one
# holding the run's current activity is killed with SIGKILL; the run must still complete, on the
# other worker, with every step's result recorded exactly once.
# Wake-ups go over a real nats-server.
#   worker_crash.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
integration_setup crash
health_base=$(free_port_block 2)
port_w1=$health_base port_w2=$((health_base + 1))
for w in w1 w2; do
  port=$(eval echo "\$port_$w")
  "$reliant" server worker --db-url "$url" --nats-url "$nats_url" --worker-id "$w" --health-port "$port" \
    --bind-address 127.0.0.1 \
    >"$work/$w.log" 2>&1 &
  pids+=($!)
  eval "pid_$w=$!"
done
# Both workers report ready (store reachable) on their health endpoints.
for w in w1 w2; do wait_ready "$(eval echo "\$port_$w")" "worker $w"; done

# 12 steps of 400 ms, each heartbeating; a dead worker's lease lapses after 1 s without heartbeat.
steps=12
run=$("$reliant" workflow engine start echo_chain --db-url "$url" --nats-url "$nats_url" \
  --input "{\"steps\": $steps, \"payload\": \"p\", \"delay_ms\": 400, \"heartbeat_timeout_ms\": 1000, \"start_to_close_ms\": 10000, \"max_attempts\": 5}")
echo "started run $run"

# Wait until a few steps are done, then kill whoever holds the running step.
victim=""
for _ in $(seq 1 100); do
  done_steps=$(q "SELECT COUNT(*) FROM workflow_history WHERE run_id = '$run' AND kind = 'activity_completed'")
  holder=$(q "SELECT lease_owner FROM engine_tasks WHERE run_id = '$run' AND kind = 'activity' AND status = 'leased' LIMIT 1")
  if [ "$done_steps" -ge 3 ] && [ -n "$holder" ]; then victim=$holder; break; fi
  sleep 0.1
done
[ -n "$victim" ] || { echo "FAIL: never saw a leased activity after 3 steps"; exit 1; }
victim_pid=$(eval echo "\$pid_$victim")
kill -9 "$victim_pid"
echo "killed $victim (pid $victim_pid) while it held a step; $done_steps steps were done"

status=""
for _ in $(seq 1 300); do
  status=$(q "SELECT status FROM workflow_runs WHERE id = '$run'")
  [ "$status" != "running" ] && break
  sleep 0.1
done
[ "$status" = "completed" ] || { echo "FAIL: run ended as '$status'"; cat "$work"/*.log; exit 1; }

result=$(q "SELECT result_json FROM workflow_runs WHERE id = '$run'")
for step in $(seq 1 "$steps"); do
  n=$(grep -o "\"step\":$step}" <<<"$result" | wc -l)
  [ "$n" -eq 1 ] || { echo "FAIL: step $step appears $n times in the result: $result"; exit 1; }
done
dupes=$(q "SELECT COUNT(*) FROM (SELECT ref_seq FROM workflow_history WHERE run_id = '$run' AND ref_seq > 0 GROUP BY ref_seq HAVING COUNT(*) > 1) d")
[ "$dupes" -eq 0 ] || { echo "FAIL: $dupes steps have more than one recorded result"; exit 1; }
answers=$(q "SELECT COUNT(*) FROM workflow_history WHERE run_id = '$run' AND kind = 'activity_completed'")
[ "$answers" -eq "$steps" ] || { echo "FAIL: $answers results recorded for $steps steps"; exit 1; }
# A retired task is deleted: the attempt that answered is in the step's recorded result.
retried=$(q "SELECT COUNT(*) FROM workflow_history WHERE run_id = '$run' AND kind = 'activity_completed' AND (body_json::jsonb->>'attempt')::int > 1")
[ "$retried" -ge 1 ] || { echo "FAIL: no step was retried after the kill"; exit 1; }
survivor=$([ "$victim" = w1 ] && echo w2 || echo w1)
echo "ok: run completed after $victim was killed; $steps steps, one result each; $retried step(s) retried by $survivor"
