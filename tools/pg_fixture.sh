#!/usr/bin/env bash
# A throwaway Postgres 15 on loopback for tests and benchmarks (docs/architecture.md §11).
#   tools/pg_fixture.sh start DIR [--fsync]   initdb into DIR (if new), start on a free port,
#                                             write the connection URL to DIR/url
#   tools/pg_fixture.sh stop DIR              stop it and delete DIR
# Tests run with fsync=off (speed); benchmarks pass --fsync to measure real commits.
# As root, the server runs as the `postgres` user (Postgres refuses to run as root).
set -euo pipefail
cmd=${1:?usage: pg_fixture.sh start|stop DIR [--fsync]}
dir=${2:?usage: pg_fixture.sh start|stop DIR [--fsync]}
fsync=off
[ "${3:-}" = "--fsync" ] && fsync=on
# PG_PRELOAD: libraries for shared_preload_libraries (tools/chat_profile.sh: pg_stat_statements).
preload=${PG_PRELOAD:+ -c shared_preload_libraries=$PG_PRELOAD}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "pg_fixture: no Postgres server found under /usr/lib/postgresql (apt-get install postgresql)" >&2; exit 1; }

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres:postgres "$dir" && chmod 700 "$dir"
      runuser -u postgres -- test -x "$dir" || {
        echo "pg_fixture: the postgres user cannot reach $dir (a parent directory is private); use a directory under the project" >&2
        exit 1
      }
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -A trust -U reliant --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    source "$(dirname "$0")/ports.sh"
    port=$(free_port_block 1)  # seeded by this process: fixtures started at once differ
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=$fsync -c max_connections=200$preload" start >/dev/null \
      || { tail -n 20 "$dir/server.log" >&2; exit 1; }
    echo "postgres://reliant@127.0.0.1:$port/postgres" > "$dir/url"
    chmod 644 "$dir/url"
    echo "pg_fixture: Postgres on 127.0.0.1:$port (fsync=$fsync), URL in $dir/url"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    echo "pg_fixture: stopped"
    ;;
  *) echo "usage: pg_fixture.sh start|stop DIR [--fsync]" >&2; exit 2 ;;
esac
