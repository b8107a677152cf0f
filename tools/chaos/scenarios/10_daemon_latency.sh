# Scenario daemon_latency: 200±50 ms each way between the daemon and the gateways for 12–18 s
# (through delay_proxy.py: this kernel has no netem), then none. Tools are slow but must neither
# fail nor run twice. Sim counterpart: scenarios/tools_partitions.yaml (link latency and faults).
# shellcheck shell=bash disable=SC2034  # sourced; SIM and the like are read by run.sh
SIM=tools_partitions
WITH_PROXY=1
fault() {
  latency_on 200 50
  rand_sleep_ms 12000 18000
  latency_off
}
