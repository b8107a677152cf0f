// The checks of one pod and its containers for validate_manifests.mjs: the command line and the
// variables against the binary's --help, the ports where the process listens, the probes, the
// security context and resources, and what the pod references (account, ConfigMaps, Secrets).
import path from "node:path";
import { OPERATOR_SECRETS, PORT_FLAGS, isSecretName } from "./manifest_rules.mjs";
import { valueProblem } from "./reliant_help.mjs";

// fail(where, message) records a failure; find(kind, namespace, name) is an object defined in the
// manifests or undefined; commandOf(words) is reliant_help.mjs's; matches(selector, labels).
// A workload `w` is { object, where, ns, labels, pod }.
export const containerChecks = ({ fail, find, commandOf, matches }) => {
  // The variables set from envFrom: { name, value?, from }.
  const environmentFromSources = (where, ns, container) => {
    const vars = [];
    for (const source of container.envFrom ?? []) {
      const prefix = source.prefix ?? "";
      if (source.configMapRef) {
        const map = find("ConfigMap", ns, source.configMapRef.name);
        if (!map) {
          fail(where, `envFrom configMapRef ${source.configMapRef.name}: no such ConfigMap here`);
        }
        for (const [name, value] of Object.entries(map?.object.data ?? {})) {
          vars.push({ name: prefix + name, value, from: `ConfigMap ${source.configMapRef.name}` });
        }
      }
      if (source.secretRef) {
        const keys = OPERATOR_SECRETS[source.secretRef.name];
        if (!keys) {
          fail(where, `envFrom secretRef ${source.secretRef.name}: ` +
            "not a Secret README.md documents");
        }
        for (const name of keys ?? []) vars.push({ name: prefix + name, from: "Secret" });
      }
    }
    return vars;
  };

  // One `env` entry: { name, value?, from }.
  const environmentEntry = (where, ns, entry) => {
    const { configMapKeyRef: mapRef, secretKeyRef: secretRef, fieldRef } = entry.valueFrom ?? {};
    if (mapRef) {
      const value = find("ConfigMap", ns, mapRef.name)?.object.data?.[mapRef.key];
      if (value === undefined && !mapRef.optional) {
        fail(where, `env ${entry.name}: ConfigMap ${mapRef.name} key ${mapRef.key} ` +
          "is not defined here");
      }
      return { name: entry.name, value, from: `ConfigMap ${mapRef.name}` };
    }
    if (secretRef) {
      if (!OPERATOR_SECRETS[secretRef.name]?.includes(secretRef.key)) {
        fail(where, `env ${entry.name}: Secret ${secretRef.name} key ${secretRef.key} ` +
          "is not one README.md documents");
      }
      return { name: entry.name, from: "Secret" };
    }
    if (fieldRef) return { name: entry.name, from: `field ${fieldRef.fieldPath}` };
    if (entry.valueFrom) return { name: entry.name, from: "resource" };
    return { name: entry.name, value: entry.value ?? "", from: "literal" };
  };

  // Every variable the container gets, in the order the kubelet sets them (a later one wins).
  const environmentOf = (where, ns, container) => {
    const vars = [
      ...environmentFromSources(where, ns, container),
      ...(container.env ?? []).map((entry) => environmentEntry(where, ns, entry)),
    ];
    for (const v of vars) {
      if (v.value !== undefined && isSecretName(v.name)) {
        fail(where, `${v.name} is set from a ${v.from}: a secret comes from a Secret`);
      }
    }
    return vars;
  };

  // `--name=value` or `--name value`, as { name: value } (a flag: "true").
  const flagsOf = (where, command, args) => {
    const given = {};
    for (let i = 0; i < args.length; i++) {
      if (!args[i].startsWith("--")) {
        fail(where, `${command.name} takes no positional argument ${JSON.stringify(args[i])}`);
        continue;
      }
      const [name, inline] = args[i].slice(2).split(/=(.*)/s);
      const option = command.options.get(name);
      if (!option) {
        fail(where, `${command.name} has no flag --${name} (not in its --help)`);
        continue;
      }
      const value = inline ?? (option.type ? args[++i] : "true");
      if (value === undefined) fail(where, `--${name} needs a value`);
      else given[name] = value;
    }
    return given;
  };

  // What the process will use for an option: its flag, else its variable, else its default.
  const effective = (command, flags, vars) => (name) => {
    if (name in flags) return { value: flags[name], via: `--${name}` };
    const option = command.options.get(name);
    const v = option?.env && vars.findLast((x) => x.name === option.env);
    if (v) return { value: v.value, via: `${v.name} (${v.from})`, from: v.from };
    return { value: option?.fallback, via: `the default of --${name}` };
  };

  // The variables: each read by the command, with a value it accepts; a *_FILE in a volume.
  const checkVariables = (where, command, container, vars) => {
    for (const v of vars) {
      const option = [...command.options.values()].find((o) => o.env === v.name);
      if (!option && !command.mentions.has(v.name)) {
        fail(where, `${command.name} reads no variable ${v.name} ` +
          `(from ${v.from}; not in its --help)`);
      }
      const problem = option && v.value !== undefined && valueProblem(option, v.value);
      if (problem) {
        fail(where, `${v.name}=${JSON.stringify(v.value)} (--${option.name}) ${problem}`);
      }
      const mounts = container.volumeMounts ?? [];
      if (v.name.endsWith("_FILE") && v.value !== undefined &&
          !mounts.some((m) => String(v.value).startsWith(`${m.mountPath}/`))) {
        fail(where, `${v.name}=${v.value} is not under any of the container's volumeMounts`);
      }
    }
  };

  // The container's command line and variables against the binary; null if it runs no command.
  const checkCommand = (w, container) => {
    const where = `${w.where} container ${container.name}`;
    const argv = [...(container.command ?? []), ...(container.args ?? [])];
    if (path.basename(argv[0] ?? "") !== "reliant") {
      fail(where, `runs ${JSON.stringify(argv[0])}: set command to the reliant binary`);
      return null;
    }
    let n = 1;
    while (n < argv.length && !argv[n].startsWith("-")) n++;
    const words = argv.slice(1, n);
    const command = commandOf(words);
    if (!command) {
      fail(where, `\`reliant ${words.join(" ")}\` is not a subcommand that runs (reliant --help)`);
      return null;
    }
    const flags = flagsOf(where, command, argv.slice(n));
    for (const [name, value] of Object.entries(flags)) {
      const problem = valueProblem(command.options.get(name), value);
      if (problem) fail(where, `--${name}=${JSON.stringify(value)} ${problem}`);
    }
    const vars = environmentOf(where, w.ns, container);
    checkVariables(where, command, container, vars);
    return { command, value: effective(command, flags, vars) };
  };

  // Named ports where the process listens; probes on the health port's /ready and /health.
  const checkPorts = (w, container, run) => {
    const where = `${w.where} container ${container.name}`;
    for (const port of container.ports ?? []) {
      const flag = PORT_FLAGS[port.name];
      if (!flag) continue;
      if (!run.command.options.has(flag)) {
        fail(where, `port ${port.name}: ${run.command.name} has no --${flag}`);
        continue;
      }
      const { value, via } = run.value(flag);
      if (Number(value) !== port.containerPort) {
        fail(where, `port ${port.name} is ${port.containerPort}, ` +
          `but the process listens on ${value} (${via})`);
      }
    }
    if (w.object.kind !== "Deployment") return;
    const health = Number(run.value("health-port").value);
    for (const [probe, wanted] of [["readinessProbe", "/ready"], ["livenessProbe", "/health"]]) {
      const get = container[probe]?.httpGet;
      if (!get) {
        fail(where, `${probe} must be an httpGet of ${wanted}`);
        continue;
      }
      if (get.path !== wanted) fail(where, `${probe} asks ${get.path}; health answers ${wanted}`);
      const declared = (container.ports ?? []).find((p) =>
        typeof get.port === "number" ? p.containerPort === get.port : p.name === get.port);
      if (!declared) {
        fail(where, `${probe} port ${get.port} is not a containerPort of the container`);
      } else if (declared.containerPort !== health) {
        fail(where, `${probe} probes port ${declared.containerPort}; ` +
          `health is served on ${health}`);
      }
    }
  };

  // Non-root, no privileges, read-only root, bounded resources; a token only where it is used.
  const checkLockedDown = (w, container, run) => {
    const where = `${w.where} container ${container.name}`;
    const pod = w.pod.securityContext ?? {};
    const own = container.securityContext ?? {};
    if ((own.runAsNonRoot ?? pod.runAsNonRoot) !== true) fail(where, "runAsNonRoot must be true");
    const uid = own.runAsUser ?? pod.runAsUser;
    if (!Number.isInteger(uid) || uid === 0) {
      fail(where, "runAsUser must be a non-zero number (the image's user is a name, " +
        "which the kubelet cannot check)");
    }
    const seccomp = (own.seccompProfile ?? pod.seccompProfile)?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      fail(where, "seccompProfile must be RuntimeDefault");
    }
    if (own.allowPrivilegeEscalation !== false) {
      fail(where, "allowPrivilegeEscalation must be false");
    }
    if (own.readOnlyRootFilesystem !== true) fail(where, "readOnlyRootFilesystem must be true");
    if (!(own.capabilities?.drop ?? []).includes("ALL")) fail(where, "capabilities must drop ALL");
    if (own.privileged) fail(where, "privileged");
    for (const side of ["requests", "limits"]) {
      for (const resource of ["cpu", "memory"]) {
        if (container.resources?.[side]?.[resource] === undefined) {
          fail(where, `resources.${side}.${resource} missing`);
        }
      }
    }
    const wantsToken = run?.command.id === "server controlplane";
    if ((w.pod.automountServiceAccountToken === true) !== wantsToken) {
      fail(w.where, `automountServiceAccountToken must be ${wantsToken}: ` +
        "only the control plane calls the Kubernetes API");
    }
  };

  // The pod's own references: service account, volumes, its Deployment's selector.
  const checkPod = (w) => {
    if (w.pod.enableServiceLinks !== false) {
      fail(w.where, "enableServiceLinks must be false: Service variables (X_PORT=tcp://...) " +
        "can collide with the ones reliant reads");
    }
    const account = w.pod.serviceAccountName ?? "default";
    if (!find("ServiceAccount", w.ns, account)) {
      fail(w.where, `serviceAccountName ${account} is not defined here`);
    }
    for (const volume of w.pod.volumes ?? []) {
      if (volume.configMap && !find("ConfigMap", w.ns, volume.configMap.name)) {
        fail(w.where, `volume ${volume.name}: ConfigMap ${volume.configMap.name} ` +
          "is not defined here");
      }
      if (!volume.secret) continue;
      const keys = OPERATOR_SECRETS[volume.secret.secretName];
      if (!keys) {
        fail(w.where, `volume ${volume.name}: Secret ${volume.secret.secretName} ` +
          "is not one README.md documents");
      }
      for (const item of volume.secret.items ?? []) {
        if (keys && !keys.includes(item.key)) {
          fail(w.where, `volume ${volume.name}: key ${item.key} is not documented`);
        }
      }
    }
    if (w.object.kind === "Deployment" && !matches(w.object.spec?.selector, w.labels)) {
      fail(w.where, "spec.selector does not match the pod template's labels");
    }
  };

  return { checkPod, checkCommand, checkPorts, checkLockedDown };
};
