#!/usr/bin/env bash
# A cluster whose tables were analyzed while tiny, as autovacuum does in a new deployment's first
# minute: for each build given, in ROUNDS alternating rounds, a fresh tools/cluster.sh, six chats,
# ANALYZE, then PASSES runs of 8 clients x 300 messages. Prints each run's chats/s and the
# sequential scans of the engine's and the chats' tables (pg_stat_user_tables): a plan made while
# a table fitted one page and kept while it grows reads it whole on every step (issue 44).
#   [ROUNDS=N] [PASSES=P] tools/analyze_early.sh [LABEL=RELIANT ...]
#   (defaults: 2 rounds, 3 passes; this build's reliant as "new")
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
rounds=${ROUNDS:-2}
passes=${PASSES:-3}
[ $# -gt 0 ] || set -- "new=$build/src/app/reliant"
dir=$build/analyze-early
cluster_rounds "$dir"
for round in $(seq 1 "$rounds"); do
  for spec in "$@"; do
    label=${spec%%=*}
    fresh_cluster "$dir" "${spec#*=}"
    "$bench" --server "$API_1" --token "$TOKEN" --clients 1 --messages 6 >/dev/null
    psql "$DATABASE_URL" -qtAc "ANALYZE"
    line=""
    for _ in $(seq 1 "$passes"); do
      line="$line $("$bench" --server "$API_1" --token "$TOKEN" --clients 8 --messages 300 |
        head -n 1 | sed 's/.*throughput=\([0-9.]*\).*/\1/')"
    done
    scans=$(psql "$DATABASE_URL" -qtAc "SELECT COALESCE(SUM(seq_scan), 0) || ' scans reading ' || \
      COALESCE(SUM(seq_tup_read), 0) || ' rows' FROM pg_stat_user_tables WHERE relname IN \
      ('engine_tasks', 'workflow_runs', 'workflow_history', 'messages', 'content_blocks')")
    printf "round %d %-8s chats/s:%s | sequential: %s\n" "$round" "$label" "$line" "$scans"
  done
done
echo "load: $(uptime | sed 's/.*load/load/')"
