#!/usr/bin/env bash
# MCP's conformance suite (the locked npm package in tests/mcp-conformance) against the daemon's
# MCP client, through `reliant mcp conformance URL`: the client scenarios that do not need OAuth
# — initialize, tools_call, elicitation with schema defaults (SEP-1034) and resuming an event
# stream after the server's retry delay (SEP-1699). The suite starts a test server per scenario
# and runs the client against it. Prints each scenario's checks and the passed/total count; fails
# on any failure the baseline (mcp_client_baseline.yml) does not expect, and on a baseline entry
# that now passes.
#   mcp_client.sh RELIANT_BINARY
set -euo pipefail
reliant=$1
here=$(cd "$(dirname "$0")" && pwd)
suite=$here/../mcp-conformance/node_modules/.bin/conformance
[ -x "$suite" ] || { echo "mcp_client: $suite is missing (tools/setup.sh installs it)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
status=0
passed=0
total=0
for scenario in initialize tools_call elicitation-sep1034-client-defaults sse-retry; do
  if "$suite" client --command "$reliant mcp conformance --timeout 20" --scenario "$scenario" \
      --expected-failures "$here/mcp_client_baseline.yml" >"$work/$scenario.log" 2>&1; then
    verdict=ok
  else
    verdict=FAILED
    status=1
  fi
  line=$(grep -E '^Passed: ' "$work/$scenario.log" | tail -n 1 || true)
  echo "$scenario: $verdict ($line)"
  [ "$verdict" = ok ] || cat "$work/$scenario.log"
  grep -q 'OVERALL: PASSED' "$work/$scenario.log" && passed=$((passed + 1))
  total=$((total + 1))
done
echo "mcp_client: $passed/$total scenarios passed (the rest as the baseline expects)"
exit $status
