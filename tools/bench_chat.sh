#!/usr/bin/env bash
# Chat benchmark, end to end through the REST API with the scripted model, on loopback:
#   1. chats per second, the distributed topology (tools/cluster.sh: Postgres, nats-server, 2
#      api, 2 workers, 2 gateways, a daemon) against the monolith (SQLite), with C clients each
#      sending M messages, after a warm-up round on each that is not counted: in ROUNDS
#      alternating rounds, since this machine's speed drifts by 2x within minutes; every
#      round's ratio, then the ratio of the totals;
#   2. a chat's p50 at SIZE messages against its p50 at about ten (bench_chat --sizes: sends
#      alternate between a big chat and small ones), on the monolith and on the cluster.
#   [ROUNDS=N] tools/bench_chat.sh [CLIENTS] [MESSAGES] [SIZE]     (defaults 8, 100, 1000)
#   tools/bench_chat.sh --smoke     one round, 2 clients x 5 messages, SIZE 20 (bench_chat's
#                                   least), checked (tools/bench_lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
if [ "${1:-}" = --smoke ]; then shift; smoke_mode "$@"; fi
clients=${1:-8}
messages=${2:-100}
size=${3:-1000}
rounds=${ROUNDS:-3}
reliant=$build/src/app/reliant
bench=$build/tests/bench/bench_chat
cluster=$build/bench-cluster  # not under $work: the postgres user must be able to reach it
if [ -n "$smoke" ]; then
  clients=2
  messages=5
  size=20
  rounds=1
  cluster=$build/bench-chat-smoke  # its own: the other benchmarks' keep theirs
else
  cmake --build "$build" --target reliant bench_chat -j"$(nproc)" >/dev/null
fi
smoke_need "$reliant" "$bench"
work=$(mktemp -d)
mono_pid=""
cleanup() {
  [ -n "$mono_pid" ] && kill "$mono_pid" 2>/dev/null || true
  tools/cluster.sh stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
source tools/ports.sh

port=$(free_port_block 2)
"$reliant" monolith --data-dir "$work/data" --api-port "$port" --grpc-port $((port + 1)) \
  --disable-tls --working-dir "$work" >"$work/monolith.log" 2>&1 &
mono_pid=$!
for _ in $(seq 1 100); do
  [ -s "$work/data/auth/token" ] && curl -s "http://127.0.0.1:$port/api/v1/me" >/dev/null && break
  sleep 0.1
done
mono_url="http://127.0.0.1:$port"
mono_token=$(cat "$work/data/auth/token")
tools/cluster.sh stop "$cluster" >/dev/null 2>&1 || true
RELIANT=$reliant tools/cluster.sh start "$cluster" >/dev/null
# shellcheck disable=SC1091
source "$cluster/cluster.env"

rate() { sed -n 's/.*throughput=\([0-9.]*\) chats\/s.*/\1/p'; }
# A smoke run's check of a result line: every chat answered, at a rate above zero.
smoke_chats() {  # LINE WHAT
  smoke_expect "$1" "^chats=$((clients * messages)) clients=$clients " "$2"
  smoke_positive "$(rate <<<"$1")" "$2: chats/s"
}
# A warm-up round on each, not counted: both start cold (connections, prepared statements, the
# workers' kept runs, the page cache), and the first round measured that rather than a chat.
"$bench" --server "$mono_url" --token "$mono_token" --clients "$clients" --messages $((messages / 4 + 1)) >/dev/null
"$bench" --server "$API_1" --token "$TOKEN" --clients "$clients" --messages $((messages / 4 + 1)) >/dev/null
echo "== chats per second: $clients clients x $messages messages, distributed against monolith"
mono_total=0
dist_total=0
for round in $(seq 1 "$rounds"); do
  mono=$("$bench" --server "$mono_url" --token "$mono_token" --clients "$clients" --messages "$messages" | head -n 1)
  dist=$("$bench" --server "$API_1" --token "$TOKEN" --clients "$clients" --messages "$messages" | head -n 1)
  smoke_chats "$mono" "bench_chat on the monolith"
  smoke_chats "$dist" "bench_chat on the cluster"
  m=$(rate <<<"$mono")
  d=$(rate <<<"$dist")
  mono_total=$(awk -v a="$mono_total" -v b="$m" 'BEGIN { print a + b }')
  dist_total=$(awk -v a="$dist_total" -v b="$d" 'BEGIN { print a + b }')
  echo "round $round: monolith $mono"
  echo "round $round: cluster  $dist"
  awk -v d="$d" -v m="$m" -v r="$round" 'BEGIN { printf "round %d: %.2fx\n", r, d / m }'
done
awk -v d="$dist_total" -v m="$mono_total" -v r="$rounds" \
  'BEGIN { printf "distributed / monolith: %.2fx (%.1f against %.1f chats/s, mean of %d rounds; target >= 0.3x)\n", d / m, d / r, m / r, r }'

echo
echo "== a chat's p50 at about $size messages against about ten (target <= 1.3x)"
echo -n "monolith: "
mono_sizes=$("$bench" --server "$mono_url" --token "$mono_token" --sizes "$size")
echo "$mono_sizes"
echo -n "cluster:  "
dist_sizes=$("$bench" --server "$API_1" --token "$TOKEN" --sizes "$size")
echo "$dist_sizes"
sizes_line='^chat of ~10 messages: p50 [0-9.]+ms .*p50 ratio [0-9.]+x'
smoke_expect "$mono_sizes" "$sizes_line" "bench_chat --sizes on the monolith"
smoke_expect "$dist_sizes" "$sizes_line" "bench_chat --sizes on the cluster"
# bench_chat times a run to its final status, whichever it is: a failed run must fail the smoke.
smoke_no_failed_chat "$mono_url" "$mono_token" "the monolith"
smoke_no_failed_chat "$API_1" "$TOKEN" "the cluster"
smoke_passed
