#!/usr/bin/env bash
# A throwaway nats-server on loopback for tests.
#   tools/nats_fixture.sh start DIR   start on a free port; URL in DIR/url, pid in DIR/pid
#   tools/nats_fixture.sh stop DIR    stop it and delete DIR
set -euo pipefail
cmd=${1:?usage: nats_fixture.sh start|stop DIR}
dir=${2:?usage: nats_fixture.sh start|stop DIR}
case "$cmd" in
  start)
    command -v nats-server >/dev/null || { echo "nats_fixture: nats-server not found (apt-get install nats-server)" >&2; exit 1; }
    mkdir -p "$dir"
    source "$(dirname "$0")/ports.sh"
    port=$(free_port_block 1)  # seeded by this process: fixtures started at once differ
    nohup nats-server -a 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 &
    echo $! >"$dir/pid"
    for _ in $(seq 1 50); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      sleep 0.1
    done
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "nats://127.0.0.1:$port" >"$dir/url"
    echo "nats_fixture: nats-server on 127.0.0.1:$port, URL in $dir/url"
    ;;
  stop)
    [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null || true
    rm -rf "$dir"
    echo "nats_fixture: stopped"
    ;;
  *) echo "usage: nats_fixture.sh start|stop DIR" >&2; exit 2 ;;
esac
