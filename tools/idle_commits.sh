#!/usr/bin/env bash
# What an idle distributed cluster costs its database: starts tools/cluster.sh (2 api, 2 workers,
# 2 gateways, 1 daemon; Postgres and nats-server), lets it settle, then counts the transactions
# Postgres commits over SECONDS while nothing happens (pg_stat_database, less this script's own
# two reads), and prints them per second. With LOG=1 it also lists the statements by shape.
#   [LOG=1] tools/idle_commits.sh [SECONDS]     (default 60; target <= 5 a second)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cluster=build/idle-cluster  # not under /tmp's private dirs: the postgres user must reach it
cmake --build build --target reliant -j"$(nproc)" >/dev/null
trap 'tools/cluster.sh stop "$cluster" >/dev/null 2>&1 || true' EXIT
tools/cluster.sh stop "$cluster" >/dev/null 2>&1 || true
tools/cluster.sh start "$cluster" >/dev/null
# shellcheck disable=SC1091
source "$cluster/cluster.env"
if [ "${LOG:-0}" = 1 ]; then
  psql "$DATABASE_URL" -qc "ALTER SYSTEM SET log_statement = 'all'" -c "SELECT pg_reload_conf()" >/dev/null
fi
commits() {
  psql "$DATABASE_URL" -qtAc "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
}
sleep 10  # start-up's own work (registrations, first polls) settles
log_from=$(wc -l <"$cluster/postgres/server.log")
before=$(commits)
sleep "$seconds"
after=$(commits)
awk -v a="$before" -v b="$after" -v s="$seconds" \
  'BEGIN { printf "idle cluster: %d commits in %d s = %.2f a second (target <= 5)\n", b - a - 1, s, (b - a - 1) / s }'
if [ "${LOG:-0}" = 1 ]; then
  tail -n +"$log_from" "$cluster/postgres/server.log" | grep -oE "(execute|statement)[^:]*: .{0,80}" |
    sed -E 's/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -20
fi
