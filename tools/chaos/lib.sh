# The chaos harness's library (sourced by tools/chaos/run.sh): a fresh real cluster per scenario
# with the daemon in its own network namespace, fault primitives (kill -9 + restart with the same
# command line, SIGSTOP/SIGCONT, nats/Postgres restarts, partitions, latency), the chat client
# that records what it sent, and the scenario driver that heals, settles and runs the checkers.
#
# The cluster's servers start as tools/cluster.sh starts them (tools/cluster_lib.sh: the same
# roles, ports and flags), launched through this harness's `launch`, which saves every command
# line for restarts; the daemon runs inside a network namespace.
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh

CHAOS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$CHAOS_DIR/../.." && pwd)
reliant=${RELIANT:-$REPO/build/src/app/reliant}
source "$REPO/tools/ports.sh"
source "$REPO/tools/cluster_lib.sh"

log() { printf '  [%s] %s\n' "$(date +%T)" "$*"; }

# ---------------------------------------------------------------------------------------------
# Deterministic PRNG (Park–Miller). Every choice the harness makes (victim, when, how long) comes
# from here, seeded by "SEED:SCENARIO", so a scenario makes the same choices whatever else runs.
# Results land in REPLY (not on stdout) so that the state advances in this shell, not a subshell.
rng_seed() {  # TEXT
  RNG_STATE=$(( $(printf '%s' "$1" | cksum | cut -d' ' -f1) % 2147483646 + 1 ))
}
rand() {  # LO HI → REPLY, uniform in [LO, HI]
  RNG_STATE=$(( RNG_STATE * 48271 % 2147483647 ))
  REPLY=$(( $1 + RNG_STATE % ($2 - $1 + 1) ))
}
rand_pick() {  # ITEM... → REPLY, one of them
  rand 1 $#
  REPLY=${!REPLY}
}
# Sleeps a PRNG-chosen number of milliseconds in [LO_MS, HI_MS]; prints nothing.
rand_sleep_ms() {  # LO_MS HI_MS
  rand "$1" "$2"
  sleep "$(printf '%d.%03d' $((REPLY / 1000)) $((REPLY % 1000)))"
}

# ---------------------------------------------------------------------------------------------
# Processes. Each has RUN/procs/NAME.cmd (namespace, stdin, argv: enough to start it again after
# kill -9 exactly as before), NAME.pid, and RUN/logs/NAME.log (appended across restarts).
declare -A HEALTH=()  # process name → health port (restart waits for /ready)

launch() {  # NAME [--ns NS] [--stdin FILE] [--health PORT] -- CMD...
  local name=$1 ns="" stdin=/dev/null
  shift
  while :; do
    case $1 in
      --ns) ns=$2; shift 2 ;;
      --stdin) stdin=$2; shift 2 ;;
      --health) HEALTH[$name]=$2; shift 2 ;;
      --) shift; break ;;
      *) break ;;
    esac
  done
  {
    printf 'p_ns=%q\np_stdin=%q\np_cmd=(' "$ns" "$stdin"
    printf '%q ' "$@"
    printf ')\n'
  } >"$RUN/procs/$name.cmd"
  start_proc "$name"
}
start_proc() {  # NAME: (re)starts it from its saved command line
  local name=$1 p_ns p_stdin p_cmd
  source "$RUN/procs/$name.cmd"
  # `ip netns exec` execs the command after entering the namespace: $! is the process itself.
  [ -n "$p_ns" ] && p_cmd=(ip netns exec "$p_ns" "${p_cmd[@]}")
  echo "=== started $(date +%T.%N)" >>"$RUN/logs/$name.log"
  "${p_cmd[@]}" <"$p_stdin" >>"$RUN/logs/$name.log" 2>&1 &
  echo $! >"$RUN/procs/$name.pid"
}
pid_of() { cat "$RUN/procs/$1.pid"; }
# Alive = exists and not a zombie (a killed child stays a zombie until reaped: kill -0 passes).
alive() {  # NAME
  local pid state
  pid=$(pid_of "$1") || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
launch_server() {  # NAME HEALTH_PORT COMMAND... (cluster_servers' launcher)
  local name=$1 health=$2
  shift 2
  launch "$name" --health "$health" -- "$@"
}
wait_ready() {  # PORT NAME: bounded (20 s)
  for _ in $(seq 1 200); do
    [ "$(curl -s --max-time 1 "http://127.0.0.1:$1/ready" || true)" = '{"status":"ready"}' ] && return 0
    sleep 0.1
  done
  log "$2 is not ready on :$1"
  tail -n 15 "$RUN/logs/$2.log"
  return 1
}
kill9() {  # NAME
  local pid
  pid=$(pid_of "$1")
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  log "fault: kill -9 $1 (pid $pid)"
}
restart() {  # NAME: same command line; waits for /ready when it has a health port
  start_proc "$1"
  log "heal: restarted $1 (pid $(pid_of "$1"))"
  [ -z "${HEALTH[$1]:-}" ] || wait_ready "${HEALTH[$1]}" "$1"
}
pause() { kill -STOP "$(pid_of "$1")"; log "fault: SIGSTOP $1"; }
resume() { kill -CONT "$(pid_of "$1")"; log "heal: SIGCONT $1"; }

q() { psql "$DATABASE_URL" -qtAc "$1" 2>/dev/null; }

# The worker holding a leased task at this instant (the one whose fault matters), else a PRNG
# pick of the two; in REPLY. The PRNG draws either way, so later choices do not shift.
pick_busy_worker() {
  rand_pick worker-1 worker-2
  local holder
  holder=$(q "SELECT lease_owner FROM engine_tasks WHERE status = 'leased' AND lease_owner LIKE 'worker-%' LIMIT 1")
  REPLY=${holder:-$REPLY}
}

# ---------------------------------------------------------------------------------------------
# Dependencies: restart nats-server and Postgres on the same port (clients reconnect to the
# address they were given) after DOWN seconds without them.
nats_restart() {  # DOWN_SECONDS
  local port=${NATS_URL##*:} pid
  pid=$(cat "$RUN/nats/pid")
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  log "fault: kill -9 nats-server (pid $pid), down ${1}s"
  sleep "$1"
  nohup nats-server -a 127.0.0.1 -p "$port" >>"$RUN/nats/server.log" 2>&1 &
  echo $! >"$RUN/nats/pid"
  for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  log "heal: nats-server back on :$port (pid $(cat "$RUN/nats/pid"))"
}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
pg_restart() {  # DOWN_SECONDS: an immediate stop (a crash: no checkpoint, recovery on start)
  local port=${ADMIN_URL##*:}
  port=${port%%/*}
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$RUN/postgres/data" -m immediate -w stop >/dev/null
  log "fault: Postgres stopped (immediate), down ${1}s"
  sleep "$1"
  # The same options as tools/pg_fixture.sh start, on the same port.
  runuser -u postgres -- "$pg_bin/pg_ctl" -D "$RUN/postgres/data" -l "$RUN/postgres/server.log" -w -t 30 \
    -o "-p $port -k $RUN/postgres -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" \
    start >/dev/null
  log "heal: Postgres back on :$port"
}

# ---------------------------------------------------------------------------------------------
# The daemon's network: namespace NS with a veth pair; root side ROOT_IP, namespace side NS_IP.
# Partitions are blackhole routes on both sides (silent loss, like netem loss 100%: this
# kernel has no sch_netem and no tc drop action); latency goes through delay_proxy.py.
net_setup() {
  local octet=$(( BASHPID % 250 + 2 ))  # BASHPID: $$ is the same for every scenario
  NS=rlc$BASHPID
  VETH_R=rlc${BASHPID}r
  VETH_N=rlc${BASHPID}n
  ROOT_IP=10.213.$octet.1
  NS_IP=10.213.$octet.2
  ip netns add "$NS"
  ip link add "$VETH_R" type veth peer name "$VETH_N"
  ip link set "$VETH_N" netns "$NS"
  ip addr add "$ROOT_IP/30" dev "$VETH_R"
  ip link set "$VETH_R" up
  ip -n "$NS" addr add "$NS_IP/30" dev "$VETH_N"
  ip -n "$NS" link set "$VETH_N" up
  ip -n "$NS" link set lo up
}
partition_daemon() {
  ip -n "$NS" route add blackhole "$ROOT_IP/32"
  ip route add blackhole "$NS_IP/32"
  log "fault: daemon partitioned from the gateways (blackhole routes both ways)"
}
heal_partition() {
  ip -n "$NS" route del blackhole "$ROOT_IP/32" 2>/dev/null || true
  ip route del blackhole "$NS_IP/32" 2>/dev/null || true
  log "heal: partition removed"
}
latency_on() {  # MEAN_MS JITTER_MS
  echo "$1 $2" >"$RUN/latency"
  log "fault: latency ${1}±${2} ms each way between the daemon and the gateways"
}
latency_off() { : >"$RUN/latency"; log "heal: latency removed"; }

# ---------------------------------------------------------------------------------------------
# The cluster: Postgres, nats-server, gateway ×2 (on 0.0.0.0, reachable from the namespace),
# worker ×2, api ×2 on loopback, and two users each with a daemon: chaos@ with `laptop` in NS
# (the daemon the faults hit), chaos2@ with `desk` on loopback. Short heartbeats (as the
# integration tests use) so failovers happen within a scenario's seconds.
cluster_up() {
  mkdir -p "$RUN/procs" "$RUN/logs" "$RUN/daemon-home" "$RUN/workspace" "$RUN/daemon-home-2" \
    "$RUN/workspace-2" "$RUN/answers"
  cluster_fixtures "$RUN" || return 1
  ADMIN_URL=$CLUSTER_ADMIN_URL
  DATABASE_URL=$CLUSTER_DB_URL
  NATS_URL=$CLUSTER_NATS_URL
  net_setup
  local base name urls=""
  base=$(free_port_block 40 "$BASHPID")
  CLUSTER_GATEWAY_BIND=0.0.0.0
  CLUSTER_GATEWAY_FLAGS=(--heartbeat-interval 1 --stale-timeout 3 --disconnect-timeout 6)
  cluster_servers "$base" launch_server || return 1
  declare -gA GW_PORT=([gateway-1]=${CLUSTER_GATEWAY_PORTS[0]} [gateway-2]=${CLUSTER_GATEWAY_PORTS[1]})
  API_1=$CLUSTER_API_1
  API_2=$CLUSTER_API_2
  for name in gateway-1 gateway-2 worker-1 worker-2 api-1 api-2; do
    wait_ready "${HEALTH[$name]}" "$name" || return 1
  done
  # What the daemon dials: each gateway directly, or (latency scenarios) through the proxy.
  declare -gA DIAL_TO_GATEWAY=()  # "ip:port" the daemon connects to → gateway id
  if [ "${WITH_PROXY:-0}" = 1 ]; then
    : >"$RUN/latency"
    launch delay-proxy -- python3 "$CHAOS_DIR/delay_proxy.py" "$ROOT_IP" "$RUN/latency" "$RNG_STATE" \
      "$((base + 30)):127.0.0.1:${GW_PORT[gateway-1]}" "$((base + 31)):127.0.0.1:${GW_PORT[gateway-2]}"
    for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/$ROOT_IP/$((base + 31))") 2>/dev/null && break; sleep 0.1; done
    DIAL_TO_GATEWAY[$ROOT_IP:$((base + 30))]=gateway-1
    DIAL_TO_GATEWAY[$ROOT_IP:$((base + 31))]=gateway-2
  else
    DIAL_TO_GATEWAY[$ROOT_IP:${GW_PORT[gateway-1]}]=gateway-1
    DIAL_TO_GATEWAY[$ROOT_IP:${GW_PORT[gateway-2]}]=gateway-2
  fi
  for dial in "${!DIAL_TO_GATEWAY[@]}"; do urls="$urls${urls:+,}http://$dial"; done
  TOKEN=$(cluster_token chaos@example.com chaos)
  TOKEN_2=$(cluster_token chaos2@example.com chaos2)
  (umask 077 && echo "$TOKEN" >"$RUN/token" && echo "$TOKEN_2" >"$RUN/token-2")
  launch daemon --ns "$NS" --stdin "$RUN/token" -- env HOME="$RUN/daemon-home" "$reliant" daemon start \
    --token --name laptop --grpc-url "$urls" --working-dir "$RUN/workspace" \
    --heartbeat-interval 1 --stale-timeout 3 --backoff-max 1
  launch daemon-2 --stdin "$RUN/token-2" -- env HOME="$RUN/daemon-home-2" "$reliant" daemon start \
    --token --name desk --grpc-url "http://127.0.0.1:${GW_PORT[gateway-1]},http://127.0.0.1:${GW_PORT[gateway-2]}" \
    --working-dir "$RUN/workspace-2" --heartbeat-interval 1 --stale-timeout 3 --backoff-max 1
  for _ in $(seq 1 200); do
    [ "$(q "SELECT COUNT(*) FROM daemons WHERE status = 'active'")" = 2 ] && break
    sleep 0.1
  done
  [ "$(q "SELECT COUNT(*) FROM daemons WHERE status = 'active'")" = 2 ] || {
    log "the daemons never both became active: $(q "SELECT name || ' ' || status FROM daemons")"
    tail -n 10 "$RUN/logs/daemon.log" "$RUN/logs/daemon-2.log"
    return 1
  }
  log "cluster up: api $API_1 $API_2, gateways ${GW_PORT[*]}, laptop in netns $NS ($NS_IP) dialing $urls, desk on loopback"
}

# Stops everything this scenario started: processes (SIGCONT first, so a paused one can die),
# whatever still runs in the namespace, the namespace and veth, nats and Postgres.
cluster_down() {
  local f pid
  for f in "$RUN"/procs/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -CONT "$pid" 2>/dev/null || true
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -n "${NS:-}" ]; then
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip route del blackhole "$NS_IP/32" 2>/dev/null || true
    ip link del "$VETH_R" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
  fi
  # A nats-server started by nats_restart is this shell's child: kill it before `wait`, which
  # would otherwise wait for it forever.
  [ -f "$RUN/nats/pid" ] && kill -9 "$(cat "$RUN/nats/pid")" 2>/dev/null
  wait 2>/dev/null || true
  "$REPO/tools/nats_fixture.sh" stop "$RUN/nats" >/dev/null 2>&1 || true
  "$REPO/tools/pg_fixture.sh" stop "$RUN/postgres" >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------------------------
# The client: a chat per message, each `run` of a command that appends its marker to ran.log in
# the daemon's workspace (the record of executions) and prints it. Messages alternate between
# the two users, so each user's markers must land in that user's daemon's workspace only. The
# `sleep 1` widens the window in which a fault hits a running tool. It prefers API_1 and
# switches to API_2 (for good) when API_1 refuses or errs. Records (JSONL) say what it sent, as
# which user, in which phase, and the outcome:
#   accepted  the api answered with a run id
#   rejected  no api accepted it (an error answer or no connection: nothing was started)
#   unknown   a timeout after the message was posted: it may or may not have been accepted
json_field() { sed -nE "s/.*\"$1\":\"([^\"]*)\".*/\1/p"; }
api_post() {  # TOKEN API PATH BODY → body on stdout; curl's exit code, or 22 for an HTTP error
  curl -s -f --max-time 8 -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
    --data-binary "$4" "$2$3"
}
token_of() {  # USER (1 or 2)
  if [ "$1" = 1 ]; then echo "$TOKEN"; else echo "$TOKEN_2"; fi
}
send_one() {  # N
  local n=$1 user=$((2 - $1 % 2)) token phase api chat="" run="" outcome=rejected out rc tries=""
  local marker="chaos-$SCENARIO-u$user-$1"
  token=$(token_of "$user")
  local CLIENT_API CLIENT_OTHER
  read -r CLIENT_API CLIENT_OTHER <"$RUN/client.api"
  phase=$(cat "$RUN/phase")
  local text="run \`echo $marker >> ran.log; sleep 1; echo $marker\`"
  for api in "$CLIENT_API" "$CLIENT_OTHER"; do
    tries="$tries${tries:+ }${api##*:}"
    out=$(api_post "$token" "$api" /api/v1/chats "{\"title\":\"$marker\"}")
    chat=$(json_field id <<<"$out")
    if [ -z "$chat" ]; then switch_api "$api"; continue; fi
    out=$(api_post "$token" "$api" "/api/v1/chats/$chat/messages" "{\"text\":\"$text\"}")
    rc=$?
    run=$(json_field run_id <<<"$out")
    if [ -n "$run" ]; then outcome=accepted; break; fi
    if [ "$rc" = 28 ]; then outcome=unknown; break; fi  # may have been accepted: no retry
    switch_api "$api"
  done
  printf '{"n":%d,"user":%d,"marker":"%s","phase":"%s","apis":"%s","chat_id":"%s","run_id":"%s","outcome":"%s","t_ms":%s}\n' \
    "$n" "$user" "$marker" "$phase" "$tries" "$chat" "$run" "$outcome" "$(date +%s%3N)" >>"$RUN/records.jsonl"
}
switch_api() {  # FAILED_API: prefer the other one from now on (a file: sends run in subshells)
  if [ "$1" = "$CLIENT_API" ]; then
    CLIENT_API=$CLIENT_OTHER
    CLIENT_OTHER=$1
    echo "$CLIENT_API $CLIENT_OTHER" >"$RUN/client.api"
  fi
}
client_loop() {  # runs in the background until RUN/client.stop exists (bounded: 200 messages)
  rng_seed "$SEED:$SCENARIO:client"
  echo "$API_1 $API_2" >"$RUN/client.api"
  local n=0
  while [ ! -e "$RUN/client.stop" ] && [ "$n" -lt 200 ]; do
    n=$((n + 1))
    send_one "$n" &  # concurrent: one slow POST must not stop the others
    rand_sleep_ms 800 1800
  done
  wait
}
# Reads every accepted or unknown chat back through the API, as its user saw it at the end, and
# asks for it as the other user too: the HTTP status of that (404 expected) goes to N.cross.
fetch_answers() {
  local chat n user api other
  while IFS=$'\t' read -r n user chat; do
    [ -n "$chat" ] || continue
    for api in "$API_1" "$API_2"; do
      curl -s -f --max-time 5 -H "Authorization: Bearer $(token_of "$user")" "$api/api/v1/chats/$chat" \
        >"$RUN/answers/$n.json" && break
    done
    other=$(token_of $((3 - user)))
    for api in "$API_1" "$API_2"; do
      curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $other" \
        "$api/api/v1/chats/$chat" >"$RUN/answers/$n.cross" && break
    done
  done < <(python3 -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    print(r["n"], r["user"], r["chat_id"], sep="\t")' "$RUN/records.jsonl")
}

# Waits (bounded) until no run of the client is running and no chat is running.
wait_quiet() {  # MAX_SECONDS
  local open deadline=$((SECONDS + $1))
  while [ "$SECONDS" -lt "$deadline" ]; do
    open=$(q "SELECT (SELECT COUNT(*) FROM workflow_runs WHERE status = 'running')
                   + (SELECT COUNT(*) FROM chats WHERE status = 'running')")
    [ "$open" = 0 ] && return 0
    sleep 1
  done
  log "still $open runs/chats running after $1 s"
}

# What the checkers need from the processes (not the database): who is alive, and which
# gateways hold a TCP stream from each daemon: laptop's are the established connections in its
# namespace, desk's those of its process to a gateway's daemon port on loopback.
snapshot_processes() {
  local desk_pid
  desk_pid=$(pid_of daemon-2)
  {
    for f in "$RUN"/procs/*.pid; do
      name=$(basename "$f" .pid)
      if alive "$name"; then echo "alive $name"; else echo "dead $name"; fi
    done
    # Columns: Recv-Q Send-Q Local Peer; the daemon's sockets are dual-stack ([::ffff:a.b.c.d]:p).
    ip netns exec "$NS" ss -Htn state established 2>/dev/null | while read -r _ _ _ peer _; do
      peer=${peer#\[::ffff:}
      peer=${peer/]/}
      echo "stream laptop $peer ${DIAL_TO_GATEWAY[$peer]:-unknown}"
    done
    ss -Htnp state established 2>/dev/null | grep -F "pid=$desk_pid," | while read -r _ _ _ peer _; do
      peer=${peer#\[::ffff:}
      peer=${peer/]/}
      case ${peer##*:} in
        "${GW_PORT[gateway-1]}") echo "stream desk $peer gateway-1" ;;
        "${GW_PORT[gateway-2]}") echo "stream desk $peer gateway-2" ;;
      esac
    done
  } >"$RUN/processes.txt"
}

# The heal is not the end of the fault: a daemon that was cut off reconnects after it (its
# dial backoff, about a second), and until its row says active again a message of its user
# finds no daemon to run on (the spec's cascade takes only an active one). Messages sent in that
# window belong to the fault, so the "after" phase begins once the laptop's row is active —
# bounded, and the wait is logged; daemon_liveness judges a daemon that never comes back.
wait_laptop_active() {  # SECONDS
  local started waited
  started=$(date +%s%3N)
  for _ in $(seq 1 $(($1 * 10))); do
    if [ "$(q "SELECT status FROM daemons WHERE name = 'laptop'")" = active ]; then
      waited=$(($(date +%s%3N) - started))
      [ "$waited" -lt 200 ] || log "recovered: the laptop is active again ${waited} ms after the heal"
      return 0
    fi
    sleep 0.1
  done
  log "the laptop is still not active $1 s after the heal"
}

# ---------------------------------------------------------------------------------------------
# One scenario: fresh cluster, client, the scenario's fault() (which heals before returning),
# more traffic after healing, bounded wait, checks. Prints "VERDICT: ..." and returns 0 iff all
# invariants held. The scenario file defines SIM (the matching scenarios/*.yaml), fault(), and
# optionally WITH_PROXY=1.
run_scenario() {  # NAME
  SCENARIO=$1
  rng_seed "$SEED:$SCENARIO"
  echo before >"$RUN/phase"
  cluster_up || { echo "VERDICT: harness error: cluster did not start"; return 2; }
  client_loop &
  local client=$!
  rand_sleep_ms 3000 5000  # traffic before the fault
  echo fault >"$RUN/phase"
  fault
  wait_laptop_active 30
  echo after >"$RUN/phase"
  log "healed; traffic goes on for 10 s"
  sleep 10
  touch "$RUN/client.stop"
  for _ in $(seq 1 30); do kill -0 "$client" 2>/dev/null || break; sleep 1; done
  kill "$client" 2>/dev/null || true  # bounded: its sends time out after 8 s each anyway
  wait "$client" 2>/dev/null || true
  log "client stopped after $(wc -l <"$RUN/records.jsonl") messages; waiting (≤ 90 s) for runs to end"
  wait_quiet 90
  sleep 3  # settle: late lease expiries and status writes
  fetch_answers
  [ -z "${CHAOS_SABOTAGE:-}" ] || sabotage "$CHAOS_SABOTAGE"
  snapshot_processes
  python3 "$CHAOS_DIR/check.py" "$RUN" "$DATABASE_URL"
}

# For proving the checkers on a real cluster: CHAOS_SABOTAGE=WHAT breaks the state on purpose
# right before the checks, so the named invariants must fail.
sabotage() {  # WHAT[,WHAT...]: dup_marker | stuck_run | leased_task | dead_gateway | wrong_gateway | cross_user
  local what
  for what in ${1//,/ }; do sabotage_one "$what"; done
}
sabotage_one() {
  local holder
  holder=$(q "SELECT gateway_id FROM daemons WHERE name = 'laptop'")
  case $1 in
    # → tool_at_most_once
    dup_marker) head -n 1 "$RUN/workspace/ran.log" >>"$RUN/workspace/ran.log" ;;
    # → runs_end_once, chat_answers
    stuck_run) q "UPDATE workflow_runs SET status = 'running' WHERE id = (SELECT MIN(id) FROM workflow_runs)" ;;
    # → queues_drain. A lease far in the future: an expired one would be taken over and redone.
    # Inserted: a finished task is deleted, so none is left to lease again.
    leased_task) q "INSERT INTO engine_tasks (id, queue, kind, run_id, event_seq, status, attempt, visible_at_ms,
                      lease_owner, leased_at_ms, lease_expires_at_ms, created_at_ms, updated_at_ms)
                    SELECT id || ':sabotage', namespace, 'activity', id, 0, 'leased', 1, 0, 'worker-9', 0,
                      9000000000000000, 0, 0 FROM workflow_runs ORDER BY id LIMIT 1" ;;
    # → daemon_liveness. Partitioned first: otherwise the daemon sees the reset and is on the
    # other gateway within a second.
    dead_gateway) partition_daemon; kill9 "$holder" ;;
    # → daemon_routable: the row names the other gateway, which holds no stream from it.
    wrong_gateway) q "UPDATE daemons SET gateway_id = '$([ "$holder" = gateway-1 ] && echo gateway-2 || echo gateway-1)' WHERE name = 'laptop'" ;;
    # → tool_isolation: a marker of the second user in the first user's workspace.
    cross_user) grep -m 1 -- '-u2-' "$RUN/workspace-2/ran.log" >>"$RUN/workspace/ran.log" ;;
    *) log "unknown CHAOS_SABOTAGE=$1" ;;
  esac
  log "sabotaged on purpose: $1"
}
