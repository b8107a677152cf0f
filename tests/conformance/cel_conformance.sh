#!/usr/bin/env bash
# conformance.cel: exports cel-spec's conformance tests from the locked npm package in
# tests/cel-conformance (tools/setup.sh installs it), then runs them through the CEL evaluator.
#   tests/conformance/cel_conformance.sh CEL_CONFORMANCE_BINARY OUT.json [--verbose]
set -euo pipefail
runner=$1 out=$2
package=$(cd "$(dirname "$0")/../cel-conformance" && pwd)
if [ ! -d "$package/node_modules/@bufbuild/cel-spec" ]; then
  echo "conformance.cel: $package/node_modules is missing; install it with" >&2
  echo "  npm ci --prefix tests/cel-conformance   (tools/setup.sh does this)" >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "conformance.cel: node is not installed (tools/setup.sh installs it)" >&2
  exit 1
fi
node "$package/export.mjs" "$out"
exec "$runner" "$out" "${@:3}"
