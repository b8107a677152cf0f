#!/usr/bin/env bash
# Managed daemons on the kubernetes platform, through the real control plane and a stand-in API
# server (no cluster runs here: kubernetes_api_standin.py keeps the objects as the API server
# does for these calls and wants the service account's bearer token). A daemon created with
# `--platform kubernetes --commands` becomes a claim, a Secret with its dial key and commands
# token, a Service and a Deployment of one ready replica (whose pod reads both from the Secret),
# and the
# control plane sees it running; the objects it applied pass kubernetes-models' schemas.
# Suspended, its Deployment has no replica and its claim stays; resumed, one again with a new
# token; deleted, its
# objects and rows are gone. A binary instead of an image is recorded failed with the reason.
#   managed_daemons_kubernetes.sh RELIANT_BINARY PG_URL_FILE NATS_URL_FILE
set -euo pipefail
reliant=$1
admin_url=$(cat "$2")
nats_url=$(cat "$3")
source "$(dirname "$0")/lib.sh"
integration_setup kube
"$reliant" admin user create --email dev@example.com --db-url "$url" >/dev/null
token=$("$reliant" admin token create --user dev@example.com --name cli --db-url "$url" | tail -n 1)

base=$(free_port_block 24)
echo sa-token >"$work/sa-token"
python3 "$(dirname "$0")/kubernetes_api_standin.py" $((base + 20)) sa-token "$work/applied.json" \
  >"$work/standin.log" 2>&1 &
pids+=($!)
start_servers "$base" 1
api="http://127.0.0.1:$((base + 12))"
"$reliant" server controlplane --db-url "$url" --nats-url "$nats_url" --replica-id cp1 \
  --health-port $((base + 3)) --bind-address 127.0.0.1 --daemons-dir "$work/managed" \
  --interval 0.5 --kubernetes-api-url "http://127.0.0.1:$((base + 20))" \
  --kubernetes-namespace team-a --kubernetes-token-file "$work/sa-token" \
  --kubernetes-image registry.example.com/reliant:0.1.0 --commands-url "$api" \
  >"$work/controlplane.log" 2>&1 &
pids+=($!)
wait_ready $((base + 3)) "control plane"
grep -q "kubernetes daemons in namespace team-a" "$work/controlplane.log" ||
  fail "the control plane does not serve kubernetes"
cli() { "$reliant" daemon "$@" --server "$api" --token "$token"; }
standin() {  # PATH: the stand-in's object, or nothing
  curl -s -H "Authorization: Bearer sa-token" "http://127.0.0.1:$((base + 20))$1"
}
seen() {  # NAME: "desired/observed" as the API shows them
  cli list | awk -v n="$1" '$2 == n' | sed -n 's/.*wanted \([a-z]*\), seen \([a-z]*\).*/\1\/\2/p'
}
wait_seen() {  # NAME STATE SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    [ "$(seen "$1")" = "$2" ] && return 0
    sleep 0.1
  done
  fail "$1 is $(seen "$1"), not $2: $(cli list)"
}

# An api told nothing else takes kubernetes daemons only: a local one would run as the control
# plane's OS user, next to every other user's.
if cli create near-box --platform local --permissions execution >"$work/local.out" 2>&1; then
  fail "a local daemon was created on an api that allows kubernetes only: $(cat "$work/local.out")"
fi
grep -qF "platform local is not configured" "$work/local.out" ||
  fail "the refusal of a local daemon: $(cat "$work/local.out")"

cli create pod-box --platform kubernetes --permissions execution --label pool=k8s --commands \
  >"$work/create.out" || fail "create: $(cat "$work/create.out")"
daemon_id=$(awk '{print $1; exit}' "$work/create.out")
name="reliant-daemon-$(echo "$daemon_id" | tr 'A-Z' 'a-z')"
deployment="/apis/apps/v1/namespaces/team-a/deployments/$name"
claim="/api/v1/namespaces/team-a/persistentvolumeclaims/$name"
service="/api/v1/namespaces/team-a/services/$name"
secret="/api/v1/namespaces/team-a/secrets/$name"
wait_seen pod-box running/running 20
replicas() { standin "$deployment" | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["replicas"])'; }
[ "$(replicas)" = 1 ] || fail "the Deployment: $(standin "$deployment")"
standin "$claim" | grep -q '"ReadWriteOnce"' || fail "no claim: $(standin "$claim")"
standin "$service" | grep -q '"ClusterIP"' || fail "no Service: $(standin "$service")"
# Commands enabled: the token is in a Secret the pod reads, never in the Deployment.
commands_token() { standin "$secret" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stringData"]["token"])'; }
first_token=$(commands_token) || fail "no Secret: $(standin "$secret")"
[[ $first_token == "rlnt_cmd_$daemon_id."* ]] || fail "the Secret's token: $first_token"
standin "$deployment" | grep -qF "rlnt_cmd_" && fail "the token is in the Deployment"
standin "$deployment" | grep -qF '"secretKeyRef"' || fail "the pod reads no Secret: $(standin "$deployment")"
standin "$deployment" | grep -qF -- "--commands-url" || fail "the pod polls no api"
# Its dial key too: what the gateways show it (the same Secret, never the Deployment).
dial_key=$(standin "$secret" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stringData"]["dial-key"])') ||
  fail "no dial key in the Secret: $(standin "$secret")"
[ "${#dial_key}" = 43 ] || fail "the dial key: $dial_key"
standin "$deployment" | grep -qF -- "$dial_key" && fail "the dial key is in the Deployment"
standin "$deployment" | grep -qF '"RELIANT_DIAL_KEY"' || fail "the pod reads no dial key"
node "$(dirname "$0")/../kubernetes-models/validate.mjs" <"$work/applied.json" >"$work/validate.out" ||
  fail "the applied objects: $(cat "$work/validate.out")"
echo "created: a claim, a Service and a Deployment of one ready replica in team-a, running; $(tail -n 1 "$work/validate.out") against the schemas"

cli suspend pod-box >/dev/null || fail "suspend"
wait_seen pod-box suspended/suspended 20
[ "$(replicas)" = 0 ] || fail "suspended, the Deployment: $(standin "$deployment")"
standin "$claim" | grep -q '"ReadWriteOnce"' || fail "suspended, its claim went"
cli resume pod-box >/dev/null || fail "resume"
wait_seen pod-box running/running 20
[ "$(replicas)" = 1 ] || fail "resumed, the Deployment: $(standin "$deployment")"
[ "$(commands_token)" != "$first_token" ] || fail "resumed, its commands token is the old one"
echo "suspended: no replica, its claim kept; resumed: one replica again, with a new commands token"

cli create bin-box --platform kubernetes --permissions execution --binary /usr/bin/true \
  >/dev/null || fail "create bin-box"
wait_seen bin-box running/failed 20
cli list | grep -F "bin-box" | grep -qF "code.binary cannot run on Kubernetes" ||
  fail "bin-box: $(cli list)"
echo "a binary instead of an image: failed, saying why"

cli delete pod-box >/dev/null || fail "delete"
for _ in $(seq 1 100); do
  [ -z "$(standin "$deployment" | grep '"Deployment"')" ] && [ -z "$(seen pod-box)" ] && break
  sleep 0.1
done
for path in "$deployment" "$service" "$secret" "$claim"; do
  standin "$path" | grep -q '"Status"' || fail "$path outlived the delete: $(standin "$path")"
done
[ -z "$(seen pod-box)" ] || fail "its rows outlived the delete: $(cli list)"
echo "deleted: its Deployment, Service, Secret, claim and rows are gone"
