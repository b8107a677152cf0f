# Scenario nats_restart: kill -9 nats-server twice, each time down for 2–6 s, restarted on the
# same port (everything published meanwhile is lost; wake-ups must be recovered from the store).
# Sim counterpart: scenarios/chat_dependency_outages.yaml (broker outages).
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=chat_dependency_outages
fault() {
  local i
  for i in 1 2; do
    rand 2 6
    nats_restart "$REPLY"
    rand_sleep_ms 3000 6000
  done
}
