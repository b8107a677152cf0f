#!/usr/bin/env bash
# conformance.kubernetes_objects: the Kubernetes objects of a few managed daemons (running and
# suspended, with and without an environment, labels, links and an image of their own), checked
# against the API's schemas by the locked kubernetes-models package in tests/kubernetes-models
# (tools/setup.sh installs it).
#   tests/conformance/kubernetes_objects.sh KUBERNETES_OBJECTS_BINARY
set -euo pipefail
package=$(cd "$(dirname "$0")/../kubernetes-models" && pwd)
if [ ! -d "$package/node_modules/kubernetes-models" ]; then
  echo "conformance.kubernetes_objects: $package/node_modules is missing; install it with" >&2
  echo "  npm ci --prefix tests/kubernetes-models   (tools/setup.sh does this)" >&2
  exit 1
fi
"$1" | node "$package/validate.mjs"
