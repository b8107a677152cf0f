#!/usr/bin/env bash
# conformance.kubernetes_manifests: the distributed deployment's Kubernetes manifests
# (deploy/kubernetes), checked by tests/kubernetes-models/validate_manifests.mjs against the API's
# schemas (the locked kubernetes-models package) and against the binary they run: its
# subcommands, flags, variables and ports. Then the self-test: copies of the manifests, each
# broken in one way on purpose, must each be refused with a message naming the break, so a
# validator that accepted everything would fail here too.
#   tests/conformance/kubernetes_manifests.sh RELIANT_BINARY [MANIFEST_DIR]
#   tests/conformance/kubernetes_manifests.sh --self-test RELIANT_BINARY [MANIFEST_DIR]  (only that)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
package=$(cd "$here/../kubernetes-models" && pwd)
self_test_only=0
if [ "${1:-}" = "--self-test" ]; then
  self_test_only=1
  shift
fi
binary=${1:?usage: kubernetes_manifests.sh [--self-test] RELIANT_BINARY [MANIFEST_DIR]}
manifests=$(cd "${2:-$here/../../deploy/kubernetes}" && pwd)
for module in kubernetes-models yaml; do
  if [ ! -d "$package/node_modules/$module" ]; then
    echo "conformance.kubernetes_manifests: $package/node_modules/$module is missing; install with" >&2
    echo "  npm ci --prefix tests/kubernetes-models   (tools/setup.sh does this)" >&2
    exit 1
  fi
done

validate() { node "$package/validate_manifests.mjs" "$binary" "$1"; }

if [ "$self_test_only" = 0 ]; then
  validate "$manifests"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
cases=0
# refused NAME EXPECTED FILE SED_SCRIPT: a copy of the manifests with FILE edited by SED_SCRIPT
# must fail validation, and the output must contain EXPECTED.
refused() {
  local name=$1 expected=$2 file=$3 script=$4 copy="$tmp/$1" out
  cases=$((cases + 1))
  cp -R "$manifests" "$copy"
  sed -i -e "$script" "$copy/$file"
  if cmp -s "$manifests/$file" "$copy/$file"; then
    echo "FAIL self-test $name: the edit changed nothing in $file (update the self-test)"
    failed=1
  elif out=$(validate "$copy" 2>&1); then
    echo "FAIL self-test $name: the validator accepted it"
    failed=1
  elif ! grep -qF -- "$expected" <<<"$out"; then
    echo "FAIL self-test $name: refused, but without \"$expected\":"
    printf '    %s\n' "${out//$'\n'/$'\n    '}"
    failed=1
  else
    echo "ok   self-test $name: $(grep -F -- "$expected" <<<"$out" | head -n 1 | sed "s|$tmp/||")"
  fi
}

refused yaml-syntax "YAML:" api.yaml 's/^  replicas: 2$/  replicas: [2/'
refused field-type "data/spec/replicas must be integer" worker.yaml 's/^  replicas: 2$/  replicas: two/'
refused service-selector "matches no pod defined here" api.yaml \
  '/^kind: Service/,$ s/component: api$/component: apis/'
refused service-target-port "targetPort frontends is not a containerPort" gateway.yaml \
  's/targetPort: frontend$/targetPort: frontends/'
refused pdb-selector "no PodDisruptionBudget with minAvailable >= 1 selects the gateway" \
  gateway-pdb.yaml 's/component: gateway$/component: gateways/'
refused unknown-subcommand "is not a subcommand that runs" gateway.yaml \
  's/"server", "gateway"/"server", "gateways"/'
refused unknown-flag "has no flag --drain-timeout" worker.yaml \
  's/"server", "worker"\]/"server", "worker", "--drain-timeout=30"]/'
refused unknown-variable "reads no variable LLM_PROVIDR" config.yaml \
  's/LLM_PROVIDER: scripted/LLM_PROVIDR: scripted/'
refused value-choice "must be one of scripted, anthropic, openai" config.yaml \
  's/LLM_PROVIDER: scripted/LLM_PROVIDER: claude/'
refused value-type "must be a number" config.yaml 's/SUSPEND_AFTER: "1800"/SUSPEND_AFTER: "soon"/'
refused probe-port "readinessProbe port healthz is not a containerPort" controlplane.yaml \
  '0,/port: health$/ s/port: health$/port: healthz/'
refused health-port "but the process listens on 8080" gateway.yaml \
  's/containerPort: 8080$/containerPort: 8081/'
refused undocumented-secret "Secret reliant-natz key NATS_URL is not one README.md documents" \
  api.yaml 's/name: reliant-nats$/name: reliant-natz/'
refused missing-configmap "no such ConfigMap" migrate-job.yaml \
  's/name: reliant-common$/name: reliant-commons/'
refused literal-secret "OPENAI_API_KEY is a secret" config.yaml \
  's/^  LOG_FORMAT: json$/  LOG_FORMAT: json\n  OPENAI_API_KEY: sk-not-a-key/'
refused file-outside-volumes "is not under any of the container's volumeMounts" config.yaml \
  's|/etc/reliant/tls/tls.key|/etc/tls/tls.key|'
refused rbac-verb "may not create deployments" controlplane-rbac.yaml \
  's/\["get", "create", "patch", "delete"\]/["get", "patch", "delete"]/'
refused gateway-id "must come from the pod's name" gateway.yaml \
  's/fieldPath: metadata.name$/fieldPath: metadata.namespace/'
refused gateway-grace "cuts a gateway's drain" gateway.yaml \
  's/terminationGracePeriodSeconds: 60$/terminationGracePeriodSeconds: 10/'
refused read-only-root "readOnlyRootFilesystem must be true" worker.yaml \
  's/readOnlyRootFilesystem: true$/readOnlyRootFilesystem: false/'
refused network-policy-port "port frontnd is not a containerPort" networkpolicies.yaml \
  's/port: frontend$/port: frontnd/'
refused kustomization "resources does not list gateway-pdb.yaml" kustomization.yaml \
  '/gateway-pdb.yaml/d'

if [ "$failed" != 0 ]; then
  echo "self-test: a broken copy was not refused as expected"
  exit 1
fi
echo "self-test: all $cases broken copies refused"
