# Scenario postgres_restart: stop Postgres with `pg_ctl -m immediate` (a crash: open
# transactions die, recovery on start), keep it down 2–5 s, start it on the same port. Sim
# counterpart: scenarios/chat_worker_crashes.yaml (the store goes away once).
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=chat_worker_crashes
fault() {
  rand 2 5
  pg_restart "$REPLY"
  rand_sleep_ms 2000 4000
}
