# Scenario gateway_kill: kill -9 the gateway holding the daemon; the daemon must fail over to the
# other one (it rotates through both URLs); the dead gateway restarts after 3–6 s. Sim
# counterpart: scenarios/tools_gateway_failover.yaml.
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=tools_gateway_failover
fault() {
  local holder now
  holder=$(q "SELECT gateway_id FROM daemons WHERE name = 'laptop' AND status = 'active'")
  holder=${holder:-gateway-1}
  kill9 "$holder"
  rand_sleep_ms 3000 6000
  now=$(q "SELECT gateway_id || ' ' || status FROM daemons WHERE name = 'laptop'")
  log "daemon now recorded: $now"
  restart "$holder"
}
