#!/usr/bin/env bash
# Where a chat's cost goes on the distributed topology, per process, for one build or several in
# alternation (issue 44). For each build given, with a cluster of it (tools/cluster.sh) and a
# monolith of it:
#   1. statements and round trips a chat, per process: Postgres logs every statement
#      (log_statement=all) while one client sends MESSAGES messages one after the other; each
#      backend is put down to the reliant process holding its connection (pg_stat_activity's
#      client_port, then ss -tnp);
#   2. CPU a chat, per process: utime + stime of each server, of Postgres (all its processes) and
#      of nats-server, before and after CLIENTS clients × 100 messages (bench_chat); and in the
#      same run, Postgres's execution time a chat by statement (pg_stat_statements, preloaded);
#   3. chats/s, p50 and p99, cluster and monolith, and the cluster's CPU a chat (all its
#      processes), in ROUNDS alternating rounds of all builds (this machine's speed drifts by 2x
#      within minutes: builds measured apart compare drifts).
#   [ROUNDS=N] [CLIENTS=C] [MESSAGES=M] tools/chat_profile.sh [LABEL=RELIANT ...]
#   (defaults: 4 rounds, 8 clients, 50 messages; this build's reliant as "new")
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/bench_lib.sh
source tools/ports.sh
command -v strace >/dev/null || { echo "chat_profile: needs strace (apt-get install strace)" >&2; exit 1; }
rounds=${ROUNDS:-4}
clients=${CLIENTS:-8}
messages=${MESSAGES:-50}
bench=$build/tests/bench/bench_chat
[ $# -gt 0 ] || set -- "new=$build/src/app/reliant"
[ -x "$bench" ] || cmake --build "$build" --target bench_chat -j"$(nproc)" >/dev/null
work=$(mktemp -d)
labels=()
declare -A binary mono_pid mono_url mono_token dist_url dist_token nats_url
cleanup() {
  for l in "${labels[@]}"; do
    kill "${mono_pid[$l]}" 2>/dev/null || true
    tools/cluster.sh stop "$build/profile-$l" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

start_build() {  # LABEL RELIANT
  local l=$1 port
  labels+=("$l")
  binary[$l]=$2
  port=$(free_port_block 2)
  "$2" monolith --data-dir "$work/$l" --api-port "$port" --grpc-port $((port + 1)) \
    --disable-tls --working-dir "$work" >"$work/$l.log" 2>&1 &
  mono_pid[$l]=$!
  for _ in $(seq 1 100); do
    [ -s "$work/$l/auth/token" ] && curl -s "http://127.0.0.1:$port/api/v1/me" >/dev/null && break
    sleep 0.1
  done
  mono_url[$l]=http://127.0.0.1:$port
  mono_token[$l]=$(cat "$work/$l/auth/token")
  tools/cluster.sh stop "$build/profile-$l" >/dev/null 2>&1 || true
  RELIANT=$2 PG_PRELOAD=pg_stat_statements tools/cluster.sh start "$build/profile-$l" >/dev/null
  psql "$(cat "$build/profile-$l/postgres/url")" -qtAc "CREATE EXTENSION pg_stat_statements" >/dev/null
  # shellcheck disable=SC1090
  source "$build/profile-$l/cluster.env"
  dist_url[$l]=$API_1
  dist_token[$l]=$TOKEN
  nats_url[$l]=$NATS_URL
  # Warm: connections, prepared statements, the page cache.
  "$bench" --server "${mono_url[$l]}" --token "${mono_token[$l]}" --clients "$clients" --messages 20 >/dev/null
  "$bench" --server "$API_1" --token "$TOKEN" --clients "$clients" --messages 20 >/dev/null
}

# The processes of LABEL's cluster, as "pid name" lines: its servers (each has its --nats-url),
# its Postgres (the postmaster and its children) and its nats-server.
processes() {  # LABEL
  local p postmaster port=${nats_url[$1]##*:}
  for p in $(pgrep -f "${binary[$1]} server" || true); do
    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "--nats-url ${nats_url[$1]} " || continue
    echo "$p $(tr '\0' ' ' <"/proc/$p/cmdline" | grep -o 'server [a-z]*' | head -1 | tr ' ' '-')"
  done
  postmaster=$(head -n 1 "$build/profile-$1/postgres/data/postmaster.pid")
  for p in "$postmaster" $(pgrep -P "$postmaster" || true); do echo "$p postgres"; done
  for p in $(pgrep -f "nats-server .*-p $port" || true); do echo "$p nats-server"; done
}

statements() {  # LABEL: statements and round trips a chat, by process
  local l=$1 admin log start pg_port pid name
  admin=$(cat "$build/profile-$l/postgres/url")
  log=$build/profile-$l/postgres/server.log
  pg_port=$(sed 's|.*@[^:]*:\([0-9]*\)/.*|\1|' <<<"$admin")
  psql "$admin" -qtAc "ALTER SYSTEM SET log_statement = 'all'" >/dev/null
  psql "$admin" -qtAc "ALTER SYSTEM SET log_line_prefix = '%p|'" >/dev/null
  psql "$admin" -qtAc "SELECT pg_reload_conf()" >/dev/null
  # Round trips: what each server sends to Postgres, one send a round trip (libpq writes a
  # statement, or statements sent together, at once), as strace sees it.
  local tracers=()
  while read -r pid name; do
    [[ $name == server-* ]] || continue
    strace -f -qq -yy -e trace=sendto -e signal=none -p "$pid" -o "$work/sends.$pid.$name" &
    tracers+=($!)
  done < <(processes "$l")
  sleep 1
  start=$(wc -l <"$log")
  "$bench" --server "${dist_url[$l]}" --token "${dist_token[$l]}" --clients 1 --messages "$messages" >/dev/null
  sleep 0.5
  kill -INT "${tracers[@]}" 2>/dev/null || true
  wait "${tracers[@]}" 2>/dev/null || true
  psql "$admin" -qtAc "ALTER SYSTEM RESET log_statement" >/dev/null
  psql "$admin" -qtAc "SELECT pg_reload_conf()" >/dev/null
  psql "$admin" -qtAc "SELECT pid, client_port FROM pg_stat_activity WHERE client_port IS NOT NULL" >"$work/backends"
  ss -tnpH >"$work/sockets"
  tail -n +"$start" "$log" | grep -E '^[0-9]+\|LOG:  (statement|execute)' | cut -d'|' -f1 | sort | uniq -c >"$work/counts" || true
  local count backend port owner file
  {
    while read -r count backend; do
      port=$(awk -F'|' -v b="$backend" '$1 == b {print $2}' "$work/backends")
      # The socket from the backend's client port to this Postgres: the reliant process's (an
      # ephemeral port may be in use towards other servers too).
      owner=$(awk -v from=":$port" -v to=":$pg_port" '
        function ends(s, e) { return substr(s, length(s) - length(e) + 1) == e }
        ends($4, from) && ends($5, to)' "$work/sockets" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1 || true)
      name=$([ -n "$owner" ] && tr '\0' ' ' <"/proc/$owner/cmdline" | grep -o 'server [a-z]*' | head -1 | tr ' ' '-' || true)
      echo "statements ${name:-other} $count"
    done <"$work/counts"
    for file in "$work"/sends.*; do
      [ -e "$file" ] || continue
      echo "trips ${file##*.} $(grep -c -- "->127.0.0.1:$pg_port\]" "$file" || true)"
    done
    rm -f "$work"/sends.*
  } | awk -v n="$messages" -v l="$l" '
    $1 == "statements" { s[$2] += $3; t += $3; seen[$2] = 1 }
    $1 == "trips" { r[$2] += $3; u += $3; seen[$2] = 1 }
    END { for (k in seen) printf "%-8s a chat  %-16s %5.1f statements %5.1f round trips\n", l, k, s[k] / n, r[k] / n;
          printf "%-8s a chat  %-16s %5.1f statements %5.1f round trips\n", l, "total", t / n, u / n }' | sort
}

cpu() {  # LABEL: CPU a chat, by process; Postgres's execution time a chat, by statement
  local l=$1 pid name admin
  admin=$(cat "$build/profile-$l/postgres/url")
  psql "$admin" -qtAc "SELECT pg_stat_statements_reset()" >/dev/null
  while read -r pid name; do echo "$pid $name $(cpu_ticks "$pid")"; done < <(processes "$l") >"$work/before"
  "$bench" --server "${dist_url[$l]}" --token "${dist_token[$l]}" --clients "$clients" --messages 100 >/dev/null
  while read -r pid name; do echo "$pid $name $(cpu_ticks "$pid")"; done < <(processes "$l") >"$work/after"
  # Execution only (no parsing or planning: every statement is prepared), lock waits included.
  psql "$admin" -qtAc "SELECT to_char(total_exec_time * 1000 / $((clients * 100)), '99990'), \
      to_char(calls::numeric / $((clients * 100)), '90.0'), \
      left(regexp_replace(query, '\s+', ' ', 'g'), 70) FROM pg_stat_statements \
      WHERE query NOT LIKE '%pg_stat_statements%' ORDER BY total_exec_time DESC LIMIT 12" |
    awk -F'|' -v l="$l" '{ printf "%-8s Postgres a chat %s us %s calls  %s\n", l, $1, $2, $3 }'
  psql "$admin" -qtAc "SELECT to_char(SUM(total_exec_time) * 1000 / $((clients * 100)), '99990') \
      FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'" |
    awk -v l="$l" '{ printf "%-8s Postgres a chat %s us executing, in all\n", l, $1 }'
  # A process counts what it used in between (one that started meanwhile, all it used).
  awk -v hz="$(getconf CLK_TCK)" -v chats=$((clients * 100)) -v l="$l" '
    NR == FNR { before[$1] = $3; next }
    { used[$2] += $3 - before[$1]; total += $3 - before[$1] }
    END { for (n in used) printf "%-8s CPU a chat  %-16s %7.0f us\n", l, n, used[n] / hz / chats * 1e6;
          printf "%-8s CPU a chat  %-16s %7.0f us\n", l, "total", total / hz / chats * 1e6 }' \
    "$work/before" "$work/after" | sort
}

for spec in "$@"; do start_build "${spec%%=*}" "${spec#*=}"; done
echo "load: $(uptime | sed 's/.*load/load/')"
echo "== statements and round trips a chat, by process (1 client, $messages messages)"
for l in "${labels[@]}"; do statements "$l"; done
echo "== CPU a chat, by process, and Postgres's time a chat, by statement ($clients clients x 100 messages; the Postgres fixture's fsync is off)"
for l in "${labels[@]}"; do cpu "$l"; done
echo "== chats/s: $clients clients x 100 messages, $rounds rounds, builds alternating"
field() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p"; }
for round in $(seq 1 "$rounds"); do
  for l in "${labels[@]}"; do
    m=$("$bench" --server "${mono_url[$l]}" --token "${mono_token[$l]}" --clients "$clients" --messages 100 | head -n 1)
    # The cluster's CPU a chat in the same round (all its processes), steadier than its rate on
    # a machine whose speed drifts: the builds' figures come from the same minutes.
    ticks=$(cpu_ticks $(processes "$l" | cut -d' ' -f1))
    d=$("$bench" --server "${dist_url[$l]}" --token "${dist_token[$l]}" --clients "$clients" --messages 100 | head -n 1)
    cpu=$((($(cpu_ticks $(processes "$l" | cut -d' ' -f1)) - ticks) * 1000000 / $(getconf CLK_TCK) / (clients * 100)))
    echo "$l $(field throughput <<<"$m") $(field p99 <<<"$m") $(field throughput <<<"$d") $(field p50 <<<"$d") $(field p99 <<<"$d") $cpu" >>"$work/rounds"
    printf "round %d %-8s monolith %7s chats/s p99 %6s ms | cluster %7s chats/s p50 %6s ms p99 %6s ms, CPU a chat %5d us\n" \
      "$round" "$l" "$(field throughput <<<"$m")" "$(field p99 <<<"$m")" "$(field throughput <<<"$d")" \
      "$(field p50 <<<"$d")" "$(field p99 <<<"$d")" "$cpu"
  done
done
awk '{ m[$1] += $2; mp[$1] += $3; d[$1] += $4; dp[$1] += $6; c[$1] += $7; n[$1]++ }
  END { for (l in n) printf "%-8s cluster / monolith %.2fx (%.1f against %.1f chats/s), p99 %.2fx; cluster CPU a chat %.0f us (means of %d rounds)\n",
          l, d[l] / m[l], d[l] / n[l], m[l] / n[l], dp[l] / mp[l], c[l] / n[l], n[l] }' "$work/rounds" | sort
echo "load: $(uptime | sed 's/.*load/load/')"
