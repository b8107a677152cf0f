# Scenario worker_pause: SIGSTOP a worker (the lease holder if any, else a PRNG pick) for 8–12 s,
# then SIGCONT: its leases lapse and pass to the other worker, and when it wakes its late
# results must be fenced off. Sim counterpart: scenarios/partitions_and_pauses.yaml (pauses).
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=partitions_and_pauses
fault() {
  local victim
  pick_busy_worker
  victim=$REPLY
  pause "$victim"
  rand_sleep_ms 8000 12000
  resume "$victim"
}
