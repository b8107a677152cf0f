// Validates the distributed deployment's Kubernetes manifests for conformance.kubernetes_manifests:
//   node validate_manifests.mjs RELIANT_BINARY MANIFEST_DIR
// Every object of every *.yaml file is checked against the API's schemas as kubernetes-models
// ships them. Then what no schema sees: Services, the PodDisruptionBudget and NetworkPolicies
// select pods defined here and name their ports; each ConfigMap or Secret a pod reads is defined
// here or is one README.md tells the operator to create; each container runs a real `reliant`
// subcommand, with flags and variables its --help lists, on the ports (health included) the
// binary serves; pods run locked down; the control plane's Role grants what its provisioner does
// (manifest_rules.mjs holds those facts). The schemas allow fields they do not name, so a
// misspelt optional field is caught only where a check below looks for the field.
// Prints "FAIL file#document Kind namespace/name: what" for each failure; exits 1 on any.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
// One module per kind the manifests use (the package's index modules load every kind, slowly);
// a kind not imported here fails as having no schema.
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { Job } from "kubernetes-models/batch/v1/Job";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { Role } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import { RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import {
  DAEMON_POD,
  OPERATOR_SECRETS,
  PER_POD_FLAGS,
  PROVISIONER_NEEDS,
  isSecretName,
} from "./manifest_rules.mjs";
import { reliantHelp } from "./reliant_help.mjs";
import { containerChecks } from "./container_checks.mjs";

const [binary, dir] = process.argv.slice(2);
if (!binary || !dir) {
  console.error("usage: node validate_manifests.mjs RELIANT_BINARY MANIFEST_DIR");
  process.exit(2);
}
const failures = [];
const fail = (where, message) => failures.push(`FAIL ${where}: ${message}`);
const { commandOf } = reliantHelp(binary);

// --- Loading and schemas -------------------------------------------------------------------------

const models = Object.fromEntries(
  [ConfigMap, Namespace, Secret, Service, ServiceAccount, Deployment, Job, PodDisruptionBudget,
    NetworkPolicy, Role, RoleBinding].map((Kind) => [`${Kind.apiVersion}/${Kind.kind}`, Kind]),
);

const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();
const objects = []; // { object, where }
let kustomization = null;
for (const file of files) {
  // YAML 1.1, as Kubernetes reads it: `on` and `yes` are booleans, 0440 is octal.
  const docs = parseAllDocuments(readFileSync(path.join(dir, file), "utf8"), { version: "1.1" });
  docs.forEach((doc, index) => {
    const at = `${file}#${index}`;
    if (doc.errors.length > 0) return fail(at, `YAML: ${doc.errors[0].message}`);
    const object = doc.toJS();
    if (object === null || object === undefined) return; // an empty document
    if (typeof object !== "object" || Array.isArray(object)) return fail(at, "not a mapping");
    if (object.kind === "Kustomization") return void (kustomization = { at, object, file });
    const { namespace = "-", name } = object.metadata ?? {};
    objects.push({ object, where: `${at} ${object.kind} ${namespace}/${name}` });
  });
}
if (objects.length === 0) fail(dir, "no Kubernetes objects found");

for (const { object, where } of objects) {
  const Kind = models[`${object.apiVersion}/${object.kind}`];
  if (!Kind) {
    fail(where, `no schema for apiVersion ${object.apiVersion} kind ${object.kind}`);
    continue;
  }
  try {
    new Kind(object).validate();
  } catch (e) {
    fail(where, `schema: ${e.message}`);
  }
}

// --- Indexes and selectors -----------------------------------------------------------------------

const byKind = (kind) => objects.filter((o) => o.object.kind === kind);
const key = (o) => `${o.object.metadata?.namespace}/${o.object.metadata?.name}`;
const find = (kind, ns, name) => byKind(kind).find((o) => key(o) === `${ns}/${name}`);
const namespaces = new Set(byKind("Namespace").map((o) => o.object.metadata?.name));

const seen = new Set();
for (const o of objects) {
  const id = `${o.object.kind} ${key(o)}`;
  if (seen.has(id)) fail(o.where, "defined twice");
  seen.add(id);
  if (o.object.kind === "Secret") {
    fail(o.where, "a Secret in the manifests: secret values are the operator's (README.md)");
  }
  if (o.object.kind !== "Namespace" && !namespaces.has(o.object.metadata?.namespace)) {
    fail(o.where, "metadata.namespace must name a Namespace defined here");
  }
}

// The pods each Deployment or Job runs.
const workloads = [...byKind("Deployment"), ...byKind("Job")].map((o) => ({
  ...o,
  ns: o.object.metadata?.namespace,
  labels: o.object.spec?.template?.metadata?.labels ?? {},
  pod: o.object.spec?.template?.spec ?? {},
}));

// A Service's plain map, or a LabelSelector.
const matches = (selector, labels) => {
  if (!selector || typeof selector !== "object") return false;
  const plain = selector.matchLabels === undefined && selector.matchExpressions === undefined;
  const wanted = plain ? selector : selector.matchLabels ?? {};
  if (Object.entries(wanted).some(([k, v]) => labels[k] !== v)) return false;
  const expressions = plain ? [] : selector.matchExpressions ?? [];
  return expressions.every(({ key: k, operator, values }) =>
    operator === "In" ? values.includes(labels[k])
    : operator === "NotIn" ? !values.includes(labels[k])
    : operator === "Exists" ? k in labels
    : !(k in labels));
};
const selectsNothing = (selector) =>
  !selector ||
  Object.keys(selector.matchLabels ?? selector).length +
    (selector.matchExpressions?.length ?? 0) === 0;
const containerPorts = (pod) => (pod.containers ?? []).flatMap((c) => c.ports ?? []);
const hasPort = (ports, port) =>
  ports.some((p) => (typeof port === "number" ? p.containerPort === port : p.name === port));

// --- Pods and containers (container_checks.mjs) --------------------------------------------------

const { checkPod, checkCommand, checkPorts, checkLockedDown } =
  containerChecks({ fail, find, commandOf, matches });

const images = new Set();
const runs = []; // { w, container, run }
for (const w of workloads) {
  checkPod(w);
  for (const container of [...(w.pod.initContainers ?? []), ...(w.pod.containers ?? [])]) {
    images.add(container.image);
    const run = checkCommand(w, container);
    checkLockedDown(w, container, run);
    if (!run) continue;
    checkPorts(w, container, run);
    runs.push({ w, container, run });
  }
}
if (images.size > 1) {
  fail(dir, `containers run different images (${[...images].join(", ")}): ` +
    "one image rewrite must reach them all");
}

// --- Roles' own needs ----------------------------------------------------------------------------

const pdbs = byKind("PodDisruptionBudget");
const daemonNamespaces = new Set(); // where a control plane puts its daemons' pods

// Gateways roll one at a time, have time to drain, and keep one up through disruptions.
const checkGateway = (w) => {
  const strategy = w.object.spec?.strategy ?? {};
  const { maxUnavailable, maxSurge } = strategy.rollingUpdate ?? {};
  if (strategy.type !== "RollingUpdate" || maxUnavailable !== 0 || maxSurge !== 1) {
    fail(w.where, "a gateway rolls out one at a time: RollingUpdate, maxUnavailable 0, maxSurge 1");
  }
  if ((w.pod.terminationGracePeriodSeconds ?? 30) < 60) {
    fail(w.where, "terminationGracePeriodSeconds under 60 cuts a gateway's drain of its " +
      "daemons short");
  }
  const guarded = pdbs.some((p) => p.object.metadata?.namespace === w.ns &&
    matches(p.object.spec?.selector, w.labels) && p.object.spec?.minAvailable >= 1);
  if (!guarded) {
    fail(w.where, "no PodDisruptionBudget with minAvailable >= 1 selects the gateway's pods");
  }
};

// The control plane's account may do, where it puts the daemons, all the provisioner does.
const checkControlPlane = (w, run) => {
  const target = run.value("kubernetes-namespace").value ?? w.ns;
  if (!namespaces.has(target)) {
    fail(w.where, `--kubernetes-namespace ${target} is not a Namespace defined here`);
  }
  daemonNamespaces.add(target);
  const account = w.pod.serviceAccountName;
  const bindsAccount = (b) => (b.object.subjects ?? []).some((s) =>
    s.kind === "ServiceAccount" && s.name === account && s.namespace === w.ns);
  const rules = byKind("RoleBinding")
    .filter((b) => b.object.metadata?.namespace === target && bindsAccount(b))
    .filter((b) => b.object.roleRef?.kind === "Role")
    .flatMap((b) => find("Role", target, b.object.roleRef.name)?.object.rules ?? []);
  for (const [group, resource, verbs] of PROVISIONER_NEEDS) {
    for (const verb of verbs) {
      const granted = rules.some((r) => (r.apiGroups ?? []).includes(group) &&
        (r.resources ?? []).includes(resource) && (r.verbs ?? []).includes(verb));
      if (!granted) {
        fail(w.where, `its account ${account} may not ${verb} ${resource} in ${target}, ` +
          "which the Kubernetes provisioner does");
      }
    }
  }
  const daemonImage = run.value("kubernetes-image").value;
  if (daemonImage && !images.has(daemonImage)) {
    fail(w.where, `the daemons' image ${daemonImage} is not the servers' image`);
  }
};

for (const { w, container, run } of runs) {
  const flag = PER_POD_FLAGS[run.command.id];
  if (flag && (w.object.spec?.replicas ?? 1) > 1 &&
      run.value(flag).from !== "field metadata.name") {
    fail(`${w.where} container ${container.name}`, `--${flag} must come from the pod's name ` +
      "(fieldRef metadata.name): its default is the same in every pod");
  }
  if (run.command.id === "server gateway") checkGateway(w);
  if (run.command.id === "server controlplane") checkControlPlane(w, run);
}

// --- Services, budgets, policies, bindings -------------------------------------------------------

// The pods that may run in a namespace: the workloads', and the managed daemons' where the
// control plane puts them.
const podsIn = (ns) => [
  ...workloads.filter((w) => w.ns === ns)
    .map((w) => ({ labels: w.labels, ports: containerPorts(w.pod) })),
  ...(daemonNamespaces.has(ns) ? [DAEMON_POD] : []),
];

for (const s of byKind("Service")) {
  const { selector, ports = [] } = s.object.spec ?? {};
  const pods = selectsNothing(selector) ? []
    : podsIn(s.object.metadata?.namespace).filter((p) => matches(selector, p.labels));
  if (pods.length === 0) {
    fail(s.where, `selector ${JSON.stringify(selector)} matches no pod defined here`);
    continue;
  }
  for (const port of ports) {
    const target = port.targetPort ?? port.port;
    if (!pods.every((p) => hasPort(p.ports, target))) {
      fail(s.where, `port ${port.name ?? port.port}: targetPort ${target} ` +
        "is not a containerPort of the selected pods");
    }
  }
}

for (const p of pdbs) {
  const selected = workloads.some((w) =>
    w.ns === p.object.metadata?.namespace && matches(p.object.spec?.selector, w.labels));
  if (!selected) fail(p.where, "selector matches no pod defined here");
}

// A NetworkPolicy peer's namespaces: its own without a namespaceSelector.
const namespacesOf = (peer, own) => !peer.namespaceSelector ? [own]
  : [...namespaces].filter((n) =>
    matches(peer.namespaceSelector, { "kubernetes.io/metadata.name": n }));

const checkPeers = (n, side, rules, peersOf) => {
  const ns = n.object.metadata?.namespace;
  rules.forEach((rule, i) => {
    for (const peer of peersOf(rule) ?? []) {
      if (peer.ipBlock) continue;
      const spaces = namespacesOf(peer, ns);
      const at = `${side}[${i}]`;
      if (spaces.length === 0) fail(n.where, `${at} namespaceSelector matches no Namespace here`);
      const found = spaces.some((s) => podsIn(s).some((p) => matches(peer.podSelector, p.labels)));
      if (peer.podSelector && !found) {
        fail(n.where, `${at} podSelector matches no pod defined here`);
      }
    }
  });
};

for (const n of byKind("NetworkPolicy")) {
  const spec = n.object.spec ?? {};
  const selected = podsIn(n.object.metadata?.namespace)
    .filter((p) => matches(spec.podSelector, p.labels));
  if (selected.length === 0) fail(n.where, "podSelector matches no pod defined here");
  (spec.ingress ?? []).forEach((rule, i) => {
    for (const { port } of rule.ports ?? []) {
      if (port !== undefined && !selected.every((p) => hasPort(p.ports, port))) {
        fail(n.where, `ingress[${i}] port ${port} is not a containerPort of every selected pod`);
      }
    }
  });
  checkPeers(n, "ingress", spec.ingress ?? [], (rule) => rule.from);
  checkPeers(n, "egress", spec.egress ?? [], (rule) => rule.to);
}

for (const b of byKind("RoleBinding")) {
  const ns = b.object.metadata?.namespace;
  if (b.object.roleRef?.kind === "Role" && !find("Role", ns, b.object.roleRef.name)) {
    fail(b.where, `roleRef Role ${b.object.roleRef.name} is not defined in ${ns}`);
  }
  for (const s of b.object.subjects ?? []) {
    if (s.kind === "ServiceAccount" && !find("ServiceAccount", s.namespace ?? ns, s.name)) {
      fail(b.where, `subject ServiceAccount ${s.namespace ?? ns}/${s.name} is not defined here`);
    }
  }
}

for (const c of byKind("ConfigMap")) {
  for (const name of Object.keys(c.object.data ?? {})) {
    if (isSecretName(name)) {
      fail(c.where, `${name} is a secret: it belongs in a Secret, not a ConfigMap`);
    }
  }
}

// --- The README and the kustomization ------------------------------------------------------------

let readme = "";
try {
  readme = readFileSync(path.join(dir, "README.md"), "utf8");
} catch {
  fail(dir, "README.md is missing: it documents the Secrets the operator creates");
}
for (const name of Object.keys(OPERATOR_SECRETS)) {
  if (readme && !readme.includes(name)) fail("README.md", `does not document the Secret ${name}`);
}
if (!kustomization) {
  fail(dir, "kustomization.yaml is missing");
} else {
  const listed = new Set(kustomization.object.resources ?? []);
  for (const f of files) {
    if (f !== kustomization.file && !listed.has(f)) {
      fail(kustomization.at, `resources does not list ${f}`);
    }
  }
  for (const f of listed) {
    if (!files.includes(f)) fail(kustomization.at, `resources lists ${f}, which is not in ${dir}`);
  }
}

// --- Report --------------------------------------------------------------------------------------

for (const line of failures) console.log(line);
const commands = [...new Set(runs.map((r) => r.run.command.name))];
console.log(`${objects.length} objects in ${files.length} files; ${runs.length} containers ` +
  `checked against the --help of ${commands.join(", ")}: ${failures.length} failures`);
process.exit(failures.length === 0 ? 0 : 1);
