# Scenario api_kill: kill -9 api-1 (the client's preferred replica; the client switches to
# api-2), restart it after 4–8 s. Sim counterpart: scenarios/chat_full_topology.yaml (api
# crashes; clients poll whichever api answers).
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=chat_full_topology
fault() {
  kill9 api-1
  rand_sleep_ms 4000 8000
  restart api-1
}
