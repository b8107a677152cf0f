#!/usr/bin/env bash
# Wide parallel loops on a real monolith (issue 38): a run whose `loop` over N items runs one
# `run` node (`echo`) per item, `parallel: true`, timed from its start to its end through the
# REST API, for each N given; and, while the widest runs, another user's chat (its message to
# its answer). The loop's per-item cost should not grow with N: the last column divides each
# time by its N and by the smallest N's per-item time (1.00 is linear).
#   tools/bench_items_loop.sh [RELIANT_BINARY] [N...]      (defaults build/src/app/reliant,
#                                                          400 800 1600 10000)
#   tools/bench_items_loop.sh --smoke     N = 4 and 8, checked (tools/bench_lib.sh)
# MONOLITH_ARGS="--no-tool-cgroups" tools/bench_items_loop.sh …   the monolith with those flags
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
if [ "${1:-}" = --smoke ]; then shift; smoke_mode "$@"; fi
reliant=${1:-$build/src/app/reliant}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(400 800 1600 10000)
[ -z "$smoke" ] || sizes=(4 8)
smoke_need "$reliant"
source tests/integration/monolith_lib.sh
monolith_setup
read -r -a monolith_args <<<"${MONOLITH_ARGS:-}"
"$reliant" db migrate up --db-driver sqlite --data-dir "$data" >/dev/null
"$reliant" admin user create --email bystander@example.com --db-driver sqlite --data-dir "$data" >/dev/null
bystander=$("$reliant" admin token create --user bystander@example.com --db-driver sqlite \
  --data-dir "$data" | tail -n 1)
start_monolith

table=$(python3 - "$api" "$token" "$bystander" "${sizes[@]}" <<'PY'
import json, sys, threading, time, urllib.request
api, token, bystander = sys.argv[1], sys.argv[2], sys.argv[3]
sizes = [int(n) for n in sys.argv[4:]]
SOURCE = """name: wide
inputs:
  items: {type: array}
entry: each
nodes:
  - id: each
    type: loop
    items: "{{ inputs.items }}"
    parallel: true
    inline:
      entry: work
      nodes:
        - {id: work, type: run, command: "echo {{ iter.item }}"}
outputs:
  done: "{{ size(nodes.each.results) }}"
"""
def call(method, path, body=None, bearer=token):
    req = urllib.request.Request(api + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": "Bearer " + bearer, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)
def bystander_chat():
    started = time.monotonic()
    chat = call("POST", "/api/v1/chats", {"title": "bystander"}, bystander)["id"]
    call("POST", f"/api/v1/chats/{chat}/messages", {"text": "hello"}, bystander)
    while call("GET", f"/api/v1/chats/{chat}", bearer=bystander)["status"] == "running":
        time.sleep(0.02)
    return time.monotonic() - started
try:
    call("POST", "/api/v1/workflows/validate", {"source": SOURCE})
except urllib.error.HTTPError as e:
    sys.exit("the bench's workflow: " + e.read().decode())
results = []
for n in sizes:
    started = time.monotonic()
    run = call("POST", "/api/v1/workflows/runs", {"source": SOURCE, "inputs": {"items": list(range(n))}})["run_id"]
    chats = []
    def watch_bystander():
        while not done.is_set():
            chats.append(bystander_chat())
            time.sleep(0.5)
    done = threading.Event()
    watcher = threading.Thread(target=watch_bystander)
    watcher.start()
    # The run list's summaries, not the run's own view: that one lists every node's state.
    while True:
        listed = call("GET", "/api/v1/workflows/runs?limit=5")["runs"]
        status = next(r for r in listed if r["id"] == run)
        if status["status"] != "running":
            break
        time.sleep(0.2)
    took = time.monotonic() - started
    done.set()
    watcher.join()
    if status["status"] != "completed":
        sys.exit(f"n={n}: the run {status['status']}: {status.get('error')}")
    results.append((n, took, max(chats) if chats else 0.0, len(chats)))
    print(f"n={n}: {took:.2f} s", file=sys.stderr, flush=True)
base = results[0][1] / results[0][0]
print(f"{'items':>8} {'seconds':>9} {'ms/item':>9} {'x linear':>9} {'bystander max s':>16} {'chats':>6}")
for n, took, worst, count in results:
    print(f"{n:>8} {took:>9.2f} {1000 * took / n:>9.2f} {took / n / base:>9.2f} {worst:>16.3f} {count:>6}")
PY
)
echo "$table"
for n in "${sizes[@]}"; do
  smoke_expect "$table" "^ +$n +[0-9.]+ " "the loop of $n items"
done
# The bystander's chats are timed to their end, whichever it is: a failed one must fail the smoke.
smoke_no_failed_chat "$api" "$bystander" "the bystander's chats"
smoke_passed
