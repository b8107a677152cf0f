# Scenario daemon_partition: cut the daemon's namespace off from the gateways (blackhole routes
# on both ends of its veth: silent loss) for 6–12 s, then heal. Streams go silent, both sides'
# heartbeats notice, the daemon reconnects after the heal. Sim counterpart:
# scenarios/tools_partitions.yaml.
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=tools_partitions
fault() {
  partition_daemon
  rand_sleep_ms 6000 12000
  log "daemon recorded during the partition: $(q "SELECT gateway_id || ' ' || status FROM daemons WHERE name = 'laptop'")"
  heal_partition
}
