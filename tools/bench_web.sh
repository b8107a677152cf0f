#!/usr/bin/env bash
# The web app's load time and size: a monolith (plain HTTP on loopback, scripted model) with
# CHATS chats, and the time to the first rendered chat list in headless chromium, p50 and p90
# over LOADS loads, cold and warm (tests/e2e/bench_web.mjs); then the gzipped size of each
# file in web/dist. Needs the built binary, web/dist and tests/e2e's packages (tools/setup.sh).
#   [CHATS=20] tools/bench_web.sh [LOADS]      (default: 20 loads)
#   tools/bench_web.sh --smoke                 3 chats, 2 loads, checked (tools/bench_lib.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
if [ "${1:-}" = --smoke ]; then shift; smoke_mode "$@"; fi
loads=${1:-20}
chats=${CHATS:-20}
[ -z "$smoke" ] || { loads=2; chats=3; }
reliant=$build/src/app/reliant
for need in "$reliant" web/dist/index.html tests/e2e/node_modules/playwright-core /usr/bin/chromium; do
  [ -e "$need" ] || { echo "bench_web: $need is missing (tools/setup.sh --build-only)" >&2; exit 1; }
done
source tools/ports.sh
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port_block 2)
"$reliant" monolith --data-dir "$work/data" --api-port "$port" --grpc-port $((port + 1)) --disable-tls \
  --working-dir "$work" --web-dir web/dist >"$work/monolith.log" 2>&1 &
pid=$!
api="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  [ -s "$work/data/auth/web-link" ] && curl -sf "$api/health" >/dev/null && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/monolith.log" >&2; exit 1; }
  sleep 0.1
done
token=$(cat "$work/data/auth/token")
for i in $(seq 1 "$chats"); do
  curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"title\":\"Benchmark chat $i\"}" "$api/api/v1/chats"
done

browser=$(BENCH_URL="$api" BENCH_DATA_DIR="$work/data" BENCH_CHATS="$chats" node tests/e2e/bench_web.mjs "$loads")
echo "$browser"
for kind in cold warm; do
  smoke_expect "$browser" "^  $kind .*: +p50 [0-9.]+ ms, p90 [0-9.]+ ms .*; $loads loads\)\$" "tests/e2e/bench_web.mjs"
done

echo "web/dist (bytes; gzip -9 as served over a compressing proxy):"
total=0 total_gz=0
while IFS= read -r f; do
  raw=$(stat -c %s "$f")
  gz=$(gzip -9 -c "$f" | wc -c)
  total=$((total + raw)) total_gz=$((total_gz + gz))
  printf '  %-40s %8d  gz %7d\n' "${f#web/dist/}" "$raw" "$gz"
done < <(find web/dist -type f | sort)
printf '  %-40s %8d  gz %7d\n' total "$total" "$total_gz"
[ "$total_gz" -gt 0 ] || [ -z "$smoke" ] || smoke_fail "web/dist is empty"
smoke_passed
