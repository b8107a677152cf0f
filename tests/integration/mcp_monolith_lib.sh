# Shared by mcp_trust.sh and mcp_limits.sh (sourced): the monolith of monolith_lib.sh, with a
# HOME of the test's own (the user's ~/.reliant: mcp.json and approvals of this test only) and
# the probe server. The caller sets `reliant`, then calls `mcp_setup`; `start_monolith
# [ENV=VALUE...]` starts it (its pid in $pid, its API in $api, its data dir in $data, the local
# user's token in $token).

source "$(dirname "${BASH_SOURCE[0]}")/monolith_lib.sh"

mcp_setup() {
  probe=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/mcp_probe_server.py
  monolith_setup
  export HOME=$work/home
  mkdir -p "$HOME/.reliant"
}
