# Scenario gateway_pause: SIGSTOP the gateway holding the daemon for 8–12 s (longer than the
# daemon's 3 s stale timeout, so it moves to the other gateway), then SIGCONT: the woken gateway
# must not take the daemon's record back. Sim counterpart: scenarios/partitions_and_pauses.yaml.
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=partitions_and_pauses
fault() {
  local holder
  holder=$(q "SELECT gateway_id FROM daemons WHERE name = 'laptop' AND status = 'active'")
  holder=${holder:-gateway-1}
  pause "$holder"
  rand_sleep_ms 8000 12000
  log "daemon recorded before SIGCONT: $(q "SELECT gateway_id || ' ' || status FROM daemons WHERE name = 'laptop'")"
  resume "$holder"
}
