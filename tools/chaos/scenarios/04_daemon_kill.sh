# Scenario daemon_kill: kill -9 the tools daemon, preferably while a tool request is dispatched
# to it (waits up to 5 s for one), and restart it with the same command line (same HOME, token
# on stdin) after 2–5 s; the harness then waits for it to be active again (wait_laptop_active).
# Sim counterpart: scenarios/tools_daemon_crash.yaml.
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=tools_daemon_crash
fault() {
  for _ in $(seq 1 50); do
    [ "$(q "SELECT COUNT(*) FROM tool_requests t JOIN daemons d ON d.id = t.daemon_id WHERE t.status = 'dispatched' AND d.name = 'laptop'")" -ge 1 ] && break
    sleep 0.1
  done
  kill9 daemon
  rand_sleep_ms 2000 5000
  restart daemon
  log "daemon recorded: $(q "SELECT gateway_id || ' ' || status FROM daemons WHERE name = 'laptop'")"
}
