#!/usr/bin/env bash
# The distributed topology as local processes, with a real Postgres and nats-server (the same
# shape as compose/docker-compose.yml, for machines without Docker):
#   Postgres, nats-server, gateway ×2, worker ×2, api ×2, and one tools daemon for a demo user.
#
#   tools/cluster.sh start DIR    start everything; DIR/cluster.env has the URLs and the token
#   tools/cluster.sh stop DIR     stop everything and delete DIR
#   tools/cluster.sh status DIR   each process: running or not
#
# DIR is new or empty, or one this script started before: `start` marks it with a file,
# .reliant-cluster, and `stop` kills processes and deletes only a marked directory holding
# nothing but what `start` puts there. Anything else is refused and left as it is.
#
# Then:  source DIR/cluster.env && build/src/app/reliant chat --server "$API_1" --token "$TOKEN" "…"
set -euo pipefail
cmd=${1:?usage: cluster.sh start|stop|status DIR}
dir=${2:?usage: cluster.sh start|stop|status DIR}
# DIR as the caller named it, from where they are, before the cd below.
case "$dir" in /*) ;; *) dir="$PWD/$dir" ;; esac
cd "$(dirname "$0")/.."
reliant=${RELIANT:-$PWD/build/src/app/reliant}
source tools/ports.sh
source tools/cluster_lib.sh

marker=.reliant-cluster
marker_text="reliant cluster directory: tools/cluster.sh stop deletes it"

refuse() {
  echo "cluster: $*" >&2
  exit 1
}
# Refuses (exit 1) unless DIR is a directory `start` made: the marker, and, when `strict`,
# nothing but what `start` creates. Never the file system's root or the home directory.
check_cluster_dir() {  # DIR [strict]
  local real home entry name unexpected=""
  real=$(cd "$1" && pwd -P)
  home=$(cd ~ 2>/dev/null && pwd -P || echo /nonexistent)
  if [ "$real" = / ] || [ "$real" = "$home" ]; then refuse "refusing to touch $real"; fi
  if [ ! -f "$real/$marker" ] || [ "$(head -n 1 "$real/$marker")" != "$marker_text" ]; then
    refuse "$1 is not a cluster directory (it has no $marker, which \`cluster.sh start\` writes): not touching it"
  fi
  [ "${2:-}" = strict ] || return 0
  for entry in "$real"/* "$real"/.[!.]* "$real"/..?*; do
    [ -e "$entry" ] || [ -L "$entry" ] || continue
    name=${entry##*/}
    case "$name" in
      "$marker" | cluster.env | postgres | nats | daemon-home | workspace | *.log | *.pid) ;;
      *) unexpected="$unexpected $name" ;;
    esac
  done
  if [ -n "$unexpected" ]; then
    refuse "$1 holds what \`cluster.sh start\` did not put there ($unexpected ): not deleting it; move those away or delete the directory yourself"
  fi
}

launch() {  # NAME COMMAND...: runs in the background, logs to DIR/NAME.log, pid in DIR/NAME.pid
  local name=$1
  shift
  "$@" >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/$name.pid"
}
declare -A health_ports=()
launch_server() {  # NAME HEALTH_PORT COMMAND... (cluster_servers' launcher)
  local name=$1
  health_ports[$name]=$2
  shift 2
  launch "$name" "$@"
}
wait_ready() {  # PORT NAME
  for _ in $(seq 1 100); do
    [ "$(curl -s "http://127.0.0.1:$1/ready" || true)" = '{"status":"ready"}' ] && return 0
    sleep 0.1
  done
  echo "cluster: $2 is not ready on :$1 (see $dir/$2.log)" >&2
  tail -n 20 "$dir/$2.log" >&2
  exit 1
}

case "$cmd" in
  start)
    [ -x "$reliant" ] || { echo "cluster: $reliant is missing; run tools/setup.sh --build-only" >&2; exit 1; }
    if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
      check_cluster_dir "$dir"  # not empty: only a directory this script made before
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    echo "$marker_text" >"$dir/$marker"
    cluster_fixtures "$dir"
    db_url=$CLUSTER_DB_URL
    nats_url=$CLUSTER_NATS_URL
    base=$(free_port_block 30)
    cluster_servers "$base" launch_server
    gateways=""
    for port in "${CLUSTER_GATEWAY_PORTS[@]}"; do gateways="$gateways${gateways:+,}http://127.0.0.1:$port"; done
    for name in gateway-1 gateway-2 worker-1 worker-2 api-1 api-2; do
      wait_ready "${health_ports[$name]}" "$name"
    done
    token=$(cluster_token dev@example.com cluster)
    mkdir -p "$dir/daemon-home" "$dir/workspace"
    echo "$token" | HOME="$dir/daemon-home" launch daemon "$reliant" daemon start --token --name laptop \
      --grpc-url "$gateways" --working-dir "$dir/workspace"
    cat >"$dir/cluster.env" <<ENV
DATABASE_URL=$db_url
NATS_URL=$nats_url
API_1=$CLUSTER_API_1
API_2=$CLUSTER_API_2
GRPC_1=$CLUSTER_GRPC_1
GRPC_2=$CLUSTER_GRPC_2
GATEWAYS=$gateways
TOKEN=$token
ENV
    chmod 600 "$dir/cluster.env"
    for _ in $(seq 1 100); do
      [ "$(psql "$db_url" -qtAc "SELECT COUNT(*) FROM daemons WHERE status = 'active'")" -ge 1 ] && break
      sleep 0.1
    done
    echo "cluster: up in $dir — api $CLUSTER_API_1, $CLUSTER_API_2; gateways $gateways; daemon 'laptop' in $dir/workspace"
    echo "cluster: source $dir/cluster.env && $reliant chat --server \"\$API_1\" --token \"\$TOKEN\" 'list the files'"
    ;;
  stop)
    [ -d "$dir" ] || exit 0
    dir=$(cd "$dir" && pwd -P)  # the directory itself, not a symlink to it
    check_cluster_dir "$dir" strict
    for pid_file in "$dir"/*.pid; do
      [ -f "$pid_file" ] && kill "$(cat "$pid_file")" 2>/dev/null || true
    done
    sleep 0.5
    for pid_file in "$dir"/*.pid; do
      [ -f "$pid_file" ] && kill -9 "$(cat "$pid_file")" 2>/dev/null || true
    done
    tools/nats_fixture.sh stop "$dir/nats" >/dev/null 2>&1 || true
    tools/pg_fixture.sh stop "$dir/postgres" >/dev/null 2>&1 || true
    rm -rf "$dir"
    echo "cluster: stopped"
    ;;
  status)
    [ -d "$dir" ] || refuse "no directory $dir"
    check_cluster_dir "$dir"
    for pid_file in "$dir"/*.pid; do
      name=$(basename "$pid_file" .pid)
      if kill -0 "$(cat "$pid_file")" 2>/dev/null; then echo "$name: running"; else echo "$name: stopped"; fi
    done
    ;;
  *) echo "usage: cluster.sh start|stop|status DIR" >&2; exit 2 ;;
esac
