// What the distributed deployment's manifests must agree with beyond the API's schemas: facts of
// deploy/kubernetes/README.md and of the binary's source, kept here in one place so that a change
// on either side shows up as a failure of conformance.kubernetes_manifests, not a broken cluster.

// The Secrets the operator creates (README.md says how), with the keys pods may read. A pod
// reading any other Secret, or another key, would not find it.
export const OPERATOR_SECRETS = {
  "reliant-database": ["DATABASE_URL"],
  "reliant-nats": ["NATS_URL"],
  "reliant-llm": ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"],
  "reliant-api-tls": ["tls.crt", "tls.key"],
  "reliant-gateway-tls": ["tls.crt", "tls.key"],
};

// Container ports by name, and the flag that decides where the role listens on each.
export const PORT_FLAGS = {
  api: "api-port",
  grpc: "grpc-port",
  health: "health-port",
  daemon: "daemon-port",
  frontend: "frontend-port",
};

// Flags whose default is the same in every replica's container (gateway-<pid>, and the pid is
// 1): with more than one replica each must come from the pod's own name.
export const PER_POD_FLAGS = { "server gateway": "gateway-id" };

// The pods the control plane creates for managed daemons (core/kubernetes_objects.cc), which
// Services and NetworkPolicies in the daemons' namespace may select.
export const DAEMON_POD = {
  labels: { "app.kubernetes.io/name": "reliant-daemon", "app.kubernetes.io/managed-by": "reliant" },
  ports: [{ name: "daemon", containerPort: 9290 }],
};

// What services/control_plane/kubernetes_provisioner.cc does: server-side apply of four kinds
// (patch, and create when the object is new), get of the Deployment, delete of all four.
export const PROVISIONER_NEEDS = [
  ["apps", "deployments", ["get", "create", "patch", "delete"]],
  ["", "persistentvolumeclaims", ["create", "patch", "delete"]],
  ["", "secrets", ["create", "patch", "delete"]],
  ["", "services", ["create", "patch", "delete"]],
];

// Names whose values are secrets (app/secret_environment.cc's rule, and NATS_URL, which may hold
// credentials): never a literal in a manifest.
export const isSecretName = (name) =>
  /(_API_KEY|_TOKEN|_PASSWORD)$/.test(name) ||
  name.includes("SECRET") ||
  ["DATABASE_URL", "PGPASSWORD", "NATS_URL"].includes(name);
