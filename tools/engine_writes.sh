#!/usr/bin/env bash
# What the engine writes to Postgres a message, for each build given in ROUNDS alternating rounds
# (issue 44): a fresh tools/cluster.sh, then CLIENTS clients x MESSAGES messages (bench_chat).
# Prints chats/s, the WAL the server wrote a message (pg_current_wal_lsn before and after), and
# what engine_tasks holds at the end: its rows and its size with its indexes. A build that keeps
# every finished task grows that table by a few rows a message; one that deletes them ends empty.
#   [ROUNDS=N] [CLIENTS=C] [MESSAGES=M] tools/engine_writes.sh [LABEL=RELIANT ...]
#   (defaults: 2 rounds, 8 clients, 100 messages; this build's reliant as "new")
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
rounds=${ROUNDS:-2}
clients=${CLIENTS:-8}
messages=${MESSAGES:-100}
[ $# -gt 0 ] || set -- "new=$build/src/app/reliant"
dir=$build/engine-writes
cluster_rounds "$dir"
for round in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    label=${spec%%=*}
    fresh_cluster "$dir" "${spec#*=}"
    before=$(psql "$DATABASE_URL" -qtAc "SELECT pg_current_wal_lsn()")
    rate=$("$bench" --server "$API_1" --token "$TOKEN" --clients "$clients" \
      --messages "$messages" | head -n 1 | sed 's/.*throughput=\([0-9.]*\).*/\1/')
    sent=$((clients * messages))
    tasks=$(psql "$DATABASE_URL" -qtAc "SELECT round(pg_wal_lsn_diff(pg_current_wal_lsn(), \
      '$before') / $sent) || ' WAL bytes a message | engine_tasks: ' || (SELECT COUNT(*) FROM \
      engine_tasks) || ' rows, ' || pg_size_pretty(pg_total_relation_size('engine_tasks'))")
    printf "round %d %-8s %s chats/s | %s\n" "$round" "$label" "$rate" "$tasks"
  done
done
echo "load: $(uptime | sed 's/.*load/load/')"
