# Scenario combo: overlapping faults: kill -9 a worker, pause the gateway holding the daemon,
# kill -9 api-1, partition the daemon briefly, restart nats; then heal all. Sim counterpart:
# scenarios/chat_full_topology.yaml (worker, api and gateway crashes with bus loss).
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=chat_full_topology
fault() {
  local worker holder
  rand_pick worker-1 worker-2
  worker=$REPLY
  holder=$(q "SELECT gateway_id FROM daemons WHERE name = 'laptop' AND status = 'active'")
  holder=${holder:-gateway-1}
  kill9 "$worker"
  rand_sleep_ms 500 2000
  pause "$holder"
  rand_sleep_ms 1000 3000
  kill9 api-1
  rand_sleep_ms 1000 3000
  restart "$worker"
  resume "$holder"
  partition_daemon
  rand_sleep_ms 3000 6000
  heal_partition
  rand 1 3
  nats_restart "$REPLY"
  restart api-1
}
