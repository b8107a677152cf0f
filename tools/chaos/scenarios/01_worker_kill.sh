# Scenario worker_kill: kill -9 a worker twice mid-chat (the one holding a leased task when
# there is one at that instant, else a PRNG pick), restarting it with the same command line
# after 1–4 s. Sim counterpart: scenarios/chat_worker_crashes.yaml (workers crash mid-transaction).
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=chat_worker_crashes
fault() {
  local i victim
  for i in 1 2; do
    pick_busy_worker
    victim=$REPLY
    kill9 "$victim"
    rand_sleep_ms 1000 4000
    restart "$victim"
    rand_sleep_ms 2000 5000
  done
}
