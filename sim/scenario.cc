// Scenario YAML → Scenario, strictly: unknown keys, wrong types, bad durations, empty ranges,
// unknown roles, nodes and invariants are all errors with file:line:column.
#include "sim/scenario.h"

#include "sim/scenario_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>

#include <yaml-cpp/yaml.h>

#include "core/workflow/bounded_yaml.h"
#include "core/workflow/loader.h"
#include "core/workflow/yaml_values.h"

namespace reliant::sim {
namespace {

using scenario_file::join;
using scenario_file::kind_of;
using scenario_file::read_expectations;
using scenario_file::read_faults;
using scenario_file::read_project_config;
using scenario_file::read_trigger_client_config;
using scenario_file::read_workflow_control;
using scenario_file::read_workflow_yaml;
using scenario_file::Reader;

const std::vector<std::string> kInvariants = {"stream_order",
                                              "request_reply_match",
                                              "liveness",
                                              "runs_end_once",
                                              "results_once",
                                              "queues_drain",
                                              "tool_at_most_once",
                                              "tool_results",
                                              "tool_isolation",
                                              "daemon_status",
                                              "daemon_liveness",
                                              "chat_updates",
                                              "chat_answers",
                                              "workflow_nodes_once",
                                              "approvals_signalled",
                                              "workflow_runs_end",
                                              "workflow_node_daemons",
                                              "terminal_isolation",
                                              "terminal_results",
                                              "cancel_grace",
                                              "daemon_routable",
                                              "one_session_per_daemon",
                                              "update_isolation",
                                              "files_isolation",
                                              "malformed_calls_refused",
                                              "workflow_runs_family",
                                              "workflow_spawns",
                                              "paused_runs_start_nothing",
                                              "firing_once",
                                              "catch_up_bounded",
                                              "resume_bounded",
                                              "suspended_not_dialled",
                                              "tool_placement",
                                              "command_once",
                                              "stranger_refused"};
const std::vector<std::string> kEchoInvariants = {"stream_order", "request_reply_match",
                                                  "liveness"};
const std::vector<std::string> kEngineInvariants = {"runs_end_once", "results_once",
                                                    "queues_drain"};
const std::vector<std::string> kToolInvariants = {
    "tool_at_most_once",     "tool_results",           "tool_isolation",   "daemon_status",
    "daemon_liveness",       "terminal_isolation",     "terminal_results", "cancel_grace",
    "daemon_routable",       "one_session_per_daemon", "files_isolation",  "resume_bounded",
    "suspended_not_dialled", "command_once",           "stranger_refused"};

Result<void> read_client_config(const Reader& r, const YAML::Node& node, const std::string& path,
                                EchoClientConfig& config) {
  if (auto ok = r.expect_map(node, path,
                             {"interval", "stale_after", "request_timeout", "dial_timeout",
                              "backoff_initial", "backoff_max"});
      !ok) {
    return ok;
  }
  const std::pair<const char*, Duration*> fields[] = {
      {"interval", &config.interval},
      {"stale_after", &config.stale_after},
      {"request_timeout", &config.request_timeout},
      {"dial_timeout", &config.dial_timeout},
      {"backoff_initial", &config.backoff.initial},
      {"backoff_max", &config.backoff.max},
  };
  for (const auto& [key, target] : fields) {
    if (!node[key]) continue;
    auto value = r.duration(node[key], path + "." + key);
    if (!value) return fail(value.error());
    if (value->count() <= 0) return fail(r.error(node[key], path + "." + key, "must be positive"));
    *target = *value;
  }
  if (config.backoff.max < config.backoff.initial) {
    return fail(r.error(node, path, "backoff_max is shorter than backoff_initial"));
  }
  return {};
}

Result<void> read_durations(const Reader& r, const YAML::Node& node, const std::string& path,
                            const std::vector<std::pair<const char*, Duration*>>& fields) {
  for (const auto& [key, target] : fields) {
    if (!node[key]) continue;
    auto value = r.duration(node[key], path + "." + key);
    if (!value) return fail(value.error());
    if (value->count() <= 0) return fail(r.error(node[key], path + "." + key, "must be positive"));
    *target = *value;
  }
  return {};
}

Result<void> read_worker_config(const Reader& r, const YAML::Node& node, const std::string& path,
                                EngineWorkerSettings& config) {
  if (auto ok =
          r.expect_map(node, path, {"poll_interval", "reap_interval", "decision_lease", "batch"});
      !ok)
    return ok;
  if (auto ok = read_durations(r, node, path,
                               {{"poll_interval", &config.poll_interval},
                                {"reap_interval", &config.reap_interval},
                                {"decision_lease", &config.decision_lease}});
      !ok) {
    return ok;
  }
  if (node["batch"]) {
    auto batch = r.count(node["batch"], path + ".batch", 1000);
    if (!batch) return fail(batch.error());
    if (*batch == 0) return fail(r.error(node["batch"], path + ".batch", "must be at least 1"));
    config.batch = *batch;
  }
  return {};
}

Result<void> read_engine_client_config(const Reader& r, const YAML::Node& node,
                                       const std::string& path, EngineClientConfig& config) {
  if (auto ok = r.expect_map(node, path,
                             {"runs", "interval", "steps", "step_delay", "heartbeat_timeout",
                              "start_to_close", "max_attempts"});
      !ok) {
    return ok;
  }
  if (auto ok = read_durations(r, node, path,
                               {{"interval", &config.interval},
                                {"heartbeat_timeout", &config.heartbeat_timeout},
                                {"start_to_close", &config.start_to_close}});
      !ok) {
    return ok;
  }
  if (node["runs"]) {
    auto runs = r.count(node["runs"], path + ".runs", 100000);
    if (!runs) return fail(runs.error());
    config.runs = *runs;
  }
  if (node["max_attempts"]) {
    auto attempts = r.count(node["max_attempts"], path + ".max_attempts", 100);
    if (!attempts) return fail(attempts.error());
    if (*attempts == 0)
      return fail(r.error(node["max_attempts"], path + ".max_attempts", "must be at least 1"));
    config.attempts_max = *attempts;
  }
  if (node["steps"]) {
    auto steps = r.range<int>(
        node["steps"], path + ".steps",
        [&r](const YAML::Node& n, const std::string& p) { return r.count(n, p, 10000); });
    if (!steps) return fail(steps.error());
    if (steps->min < 1)
      return fail(r.error(node["steps"], path + ".steps", "a run needs at least 1 step"));
    config.steps_min = steps->min;
    config.steps_max = steps->max;
  }
  if (node["step_delay"]) {
    auto delay = r.range<Duration>(
        node["step_delay"], path + ".step_delay",
        [&r](const YAML::Node& n, const std::string& p) { return r.duration(n, p); });
    if (!delay) return fail(delay.error());
    config.step_delay_min = delay->min;
    config.step_delay_max = delay->max;
  }
  return {};
}

// A daemon's `managed` and, for a managed one only, its control plane's settings.
Result<void> read_managed_settings(const Reader& r, const YAML::Node& node, const std::string& path,
                                   DaemonNodeConfig& config) {
  if (node["managed"]) {
    auto managed = r.boolean(node["managed"], path + ".managed");
    if (!managed) return fail(managed.error());
    config.managed = *managed;
    if (config.managed) config.type = DaemonType::cloud;
  }
  for (const auto& [key, flag] :
       {std::pair{"always_on", &config.always_on}, std::pair{"suspended", &config.suspended},
        std::pair{"commands", &config.commands}}) {
    if (!node[key]) continue;
    auto value = r.boolean(node[key], path + "." + key);
    if (!value) return fail(value.error());
    if (!config.managed) {
      return fail(r.error(node[key], path + "." + key,
                          "only a managed daemon (managed: true) has a control plane's wish"));
    }
    *flag = *value;
  }
  return {};
}

Result<void> read_daemon_config(const Reader& r, const YAML::Node& node, const std::string& path,
                                DaemonNodeConfig& config) {
  if (auto ok = r.expect_map(node, path,
                             {"user", "type", "labels", "managed", "always_on", "suspended",
                              "commands", "mcp", "mcp_crash_share"});
      !ok) {
    return ok;
  }
  if (node["mcp"]) {
    auto mcp = r.boolean(node["mcp"], path + ".mcp");
    if (!mcp) return fail(mcp.error());
    config.mcp = *mcp;
  }
  if (node["mcp_crash_share"]) {
    auto share = r.probability(node["mcp_crash_share"], path + ".mcp_crash_share");
    if (!share) return fail(share.error());
    if (!config.mcp) {
      return fail(r.error(node["mcp_crash_share"], path + ".mcp_crash_share",
                          "the daemon runs no MCP server (set mcp: true)"));
    }
    config.mcp_crash_share = *share;
  }
  if (auto ok = read_managed_settings(r, node, path, config); !ok) return ok;
  if (node["user"]) {
    auto user = r.string(node["user"], path + ".user");
    if (!user) return fail(user.error());
    if (user->empty() || user->find_first_of(" .*>") != std::string::npos)
      return fail(
          r.error(node["user"], path + ".user", "'" + *user + "' is not a valid user name"));
    config.user = *user;
  }
  if (node["type"]) {
    auto type = r.string(node["type"], path + ".type");
    if (!type) return fail(type.error());
    const std::optional<DaemonType> named = daemon_type_named(*type);
    if (!named)
      return fail(
          r.error(node["type"], path + ".type", "expected local or cloud, got '" + *type + "'"));
    config.type = *named;
  }
  if (node["labels"]) {
    const auto& labels = node["labels"];
    if (!labels.IsMap())
      return fail(r.error(labels, path + ".labels", "expected a map, got " + kind_of(labels)));
    for (const auto& entry : labels) {
      auto key = r.string(entry.first, path + ".labels");
      if (!key) return fail(key.error());
      auto value = r.string(entry.second, path + ".labels." + *key);
      if (!value) return fail(value.error());
      config.labels[*key] = *value;
    }
  }
  return {};
}

Result<void> read_tool_client_config(const Reader& r, const YAML::Node& node,
                                     const std::string& path, ToolClientConfig& config) {
  if (auto ok = r.expect_map(
          node, path,
          {"user", "interval", "sync_share", "tool_timeout", "command_time_max", "daemon", "kind"});
      !ok) {
    return ok;
  }
  for (const char* key : {"user", "daemon", "kind"}) {
    if (!node[key]) continue;
    auto text = r.string(node[key], path + "." + key);
    if (!text) return fail(text.error());
    const std::string name = key;
    (name == "user" ? config.user : name == "daemon" ? config.daemon : config.kind) = *text;
  }
  if (config.kind != "bash" && config.kind != "mcp" && config.kind != "terminal" &&
      config.kind != "cancel" && config.kind != "files" && config.kind != "commands" &&
      config.kind != "stranger") {
    return fail(r.error(node["kind"], path + ".kind",
                        "expected bash, mcp, terminal, cancel, files, commands or stranger, got '" +
                            config.kind + "'"));
  }
  if (config.user.empty() || config.user.find_first_of(" .*>") != std::string::npos)
    return fail(r.error(node, path + ".user", "'" + config.user + "' is not a valid user name"));
  if (auto ok = read_durations(r, node, path,
                               {{"interval", &config.interval},
                                {"tool_timeout", &config.tool_timeout},
                                {"command_time_max", &config.command_time_max}});
      !ok) {
    return ok;
  }
  if (node["sync_share"]) {
    auto share = r.probability(node["sync_share"], path + ".sync_share");
    if (!share) return fail(share.error());
    config.sync_share = *share;
  }
  return {};
}

Result<void> read_tool_path(const Reader& r, const YAML::Node& node, ToolPathTimings& timings) {
  if (auto ok = r.expect_map(node, "tool_path",
                             {"heartbeat_interval", "stale_after", "disconnect_after",
                              "backoff_initial", "backoff_max"});
      !ok) {
    return ok;
  }
  if (auto ok = read_durations(r, node, "tool_path",
                               {{"heartbeat_interval", &timings.heartbeat_interval},
                                {"stale_after", &timings.stale_after},
                                {"disconnect_after", &timings.disconnect_after},
                                {"backoff_initial", &timings.backoff_initial},
                                {"backoff_max", &timings.backoff_max}});
      !ok) {
    return ok;
  }
  if (timings.stale_after <= timings.heartbeat_interval)
    return fail(r.error(node, "tool_path", "stale_after must be longer than heartbeat_interval"));
  if (timings.disconnect_after < timings.stale_after)
    return fail(r.error(node, "tool_path", "disconnect_after is shorter than stale_after"));
  if (timings.backoff_max < timings.backoff_initial)
    return fail(r.error(node, "tool_path", "backoff_max is shorter than backoff_initial"));
  return {};
}

// A workflow_client's config: its workflow must load (its mistakes are reported at their place
// in the workflow, after the place of `workflow:` in the scenario), and every expectation names
// an outcome and the outputs it expects.
Result<void> read_workflow_client_config(const Reader& r, const YAML::Node& config,
                                         const std::string& path, WorkflowClientConfig& client) {
  if (auto ok =
          r.expect_map(config, path,
                       {"user", "interval", "request_timeout", "approve_share", "concurrent",
                        "workflow", "project", "project_workflows", "inputs", "expect", "control"});
      !ok)
    return ok;
  if (config["user"]) {
    auto user = r.string(config["user"], path + ".user");
    if (!user) return fail(user.error());
    client.user = *user;
  }
  if (config["approve_share"]) {
    auto share = r.probability(config["approve_share"], path + ".approve_share");
    if (!share) return fail(share.error());
    client.approve_share = *share;
  }
  if (config["concurrent"]) {
    auto concurrent = r.count(config["concurrent"], path + ".concurrent", 100);
    if (!concurrent) return fail(concurrent.error());
    if (*concurrent == 0)
      return fail(r.error(config["concurrent"], path + ".concurrent", "must be at least 1"));
    client.concurrent = *concurrent;
  }
  if (!config["workflow"]) return fail(r.error(config, path, "missing 'workflow' (its YAML)"));
  auto text = read_workflow_yaml(r, config["workflow"], path + ".workflow");
  if (!text) return fail(text.error());
  client.workflow = *text;
  if (auto ok = read_project_config(r, config, path, client); !ok) return ok;
  if (config["control"]) {
    if (auto ok = read_workflow_control(r, config["control"], path + ".control", client.control);
        !ok)
      return ok;
  }
  if (config["inputs"]) {
    if (!config["inputs"].IsMap()) {
      return fail(r.error(config["inputs"], path + ".inputs",
                          "expected a map, got " + kind_of(config["inputs"])));
    }
    client.inputs = workflow::to_json(config["inputs"]);
  }
  if (auto ok = read_expectations(r, config, path, client); !ok) return ok;
  return read_durations(
      r, config, path,
      {{"interval", &client.interval}, {"request_timeout", &client.request_timeout}});
}

// The control_plane role's config: its rounds and the simulated platform under it.
Result<void> read_control_plane_config(const Reader& r, const YAML::Node& node,
                                       const std::string& path, ControlPlaneConfig& config) {
  if (auto ok = r.expect_map(node, path,
                             {"interval", "suspend_after", "pod_start", "pod_start_failure_share",
                              "pod_exit_share", "pod_exit_after"});
      !ok) {
    return ok;
  }
  for (const auto& [key, min, max] :
       {std::tuple{"pod_start", &config.pod_start_min, &config.pod_start_max},
        std::tuple{"pod_exit_after", &config.pod_exit_after_min, &config.pod_exit_after_max}}) {
    if (!node[key]) continue;
    auto delay = r.range<Duration>(
        node[key], path + "." + key,
        [&r](const YAML::Node& n, const std::string& p) { return r.duration(n, p); });
    if (!delay) return fail(delay.error());
    *min = delay->min;
    *max = delay->max;
  }
  for (const auto& [key, share] :
       {std::pair{"pod_start_failure_share", &config.pod_start_failure_share},
        std::pair{"pod_exit_share", &config.pod_exit_share}}) {
    if (!node[key]) continue;
    auto read = r.probability(node[key], path + "." + key);
    if (!read) return fail(read.error());
    *share = *read;
  }
  return read_durations(r, node, path,
                        {{"interval", &config.interval}, {"suspend_after", &config.suspend_after}});
}

// Managed daemons need a control plane; chat nodes their apis, workers and a daemon; daemons and
// tool clients a gateway.
Result<void> check_tool_and_chat_nodes(const Reader& r, const YAML::Node& topology,
                                       const Scenario& s) {
  const bool managed = std::any_of(s.topology.begin(), s.topology.end(), [](const NodeGroup& g) {
    return g.is<DaemonNodeConfig>() && g.as<DaemonNodeConfig>().managed;
  });
  if (managed && !s.has_role("control_plane")) {
    return fail(r.error(topology, "topology",
                        "managed daemons need a control_plane node to have them connected"));
  }
  const bool chat_nodes = std::any_of(s.topology.begin(), s.topology.end(), [](const auto& g) {
    return g.role().starts_with("chat_") || g.role().ends_with("flow_client") ||
           g.role() == "trigger_client";
  });
  if (chat_nodes &&
      !(s.has_role("chat_api") && s.has_role("chat_worker") && s.has_role("daemon"))) {
    return fail(r.error(topology, "topology",
                        "chat nodes need chat_api, chat_worker and daemon nodes (and a gateway)"));
  }
  if ((s.has_role("daemon") || s.has_role("tool_client")) && !s.has_role("gateway")) {
    return fail(
        r.error(topology, "topology", "daemon and tool_client nodes need at least one gateway"));
  }
  return {};
}

// A group's `config`, read into the settings of its role.
Result<void> read_role_config(const Reader& r, const YAML::Node& config, const std::string& path,
                              NodeGroup& group) {
  if (auto* client = std::get_if<EchoClientConfig>(&group.settings))
    return read_client_config(r, config, path, *client);
  if (auto* worker = std::get_if<EngineWorkerSettings>(&group.settings))
    return read_worker_config(r, config, path, *worker);
  if (auto* client = std::get_if<EngineClientConfig>(&group.settings))
    return read_engine_client_config(r, config, path, *client);
  if (auto* daemon = std::get_if<DaemonNodeConfig>(&group.settings))
    return read_daemon_config(r, config, path, *daemon);
  if (auto* client = std::get_if<ToolClientConfig>(&group.settings))
    return read_tool_client_config(r, config, path, *client);
  if (auto* client = std::get_if<ChatClientConfig>(&group.settings)) {
    if (auto ok =
            r.expect_map(config, path, {"user", "interval", "request_timeout", "manual_share"});
        !ok)
      return ok;
    if (config["user"]) {
      auto user = r.string(config["user"], path + ".user");
      if (!user) return fail(user.error());
      client->user = *user;
    }
    if (config["manual_share"]) {
      auto share = r.probability(config["manual_share"], path + ".manual_share");
      if (!share) return fail(share.error());
      client->manual_share = *share;
    }
    return read_durations(
        r, config, path,
        {{"interval", &client->interval}, {"request_timeout", &client->request_timeout}});
  }
  if (auto* client = std::get_if<WorkflowClientConfig>(&group.settings))
    return read_workflow_client_config(r, config, path, *client);
  if (auto* client = std::get_if<TriggerClientConfig>(&group.settings))
    return read_trigger_client_config(r, config, path, *client);
  if (auto* plane = std::get_if<ControlPlaneConfig>(&group.settings))
    return read_control_plane_config(r, config, path, *plane);
  return fail(r.error(config, path, "role '" + std::string(group.role()) + "' takes no config"));
}

Result<void> read_topology(const Reader& r, const YAML::Node& node, Scenario& s) {
  if (!node.IsSequence() || node.size() == 0) {
    return fail(r.error(node, "topology",
                        "expected a non-empty list of node groups, got " + kind_of(node)));
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const auto& g = node[i];
    const std::string path = "topology[" + std::to_string(i) + "]";
    if (auto ok = r.expect_map(g, path, {"name", "role", "count", "config", "port"}); !ok)
      return ok;
    NodeGroup group;
    for (const char* required : {"name", "role"}) {
      if (!g[required]) return fail(r.error(g, path, std::string("missing '") + required + "'"));
    }
    auto name = r.string(g["name"], path + ".name");
    if (!name) return fail(name.error());
    if (name->empty() || name->find_first_of(" .*>:") != std::string::npos) {
      return fail(
          r.error(g["name"], path + ".name",
                  "'" + *name + "' is not a valid node name (no spaces, '.', '*', '>' or ':')"));
    }
    if (!names.insert(*name).second)
      return fail(r.error(g["name"], path + ".name", "duplicate group name '" + *name + "'"));
    group.name = *name;
    auto role = r.string(g["role"], path + ".role");
    if (!role) return fail(role.error());
    std::optional<RoleSettings> settings = role_settings_named(*role);
    if (!settings) {
      return fail(r.error(g["role"], path + ".role",
                          "unknown role '" + *role + "' (known roles: " +
                              join(std::vector<std::string>(kRoleNames.begin(), kRoleNames.end())) +
                              ")"));
    }
    group.settings = std::move(*settings);
    if (g["count"]) {
      auto count = r.count(g["count"], path + ".count", 1000);
      if (!count) return fail(count.error());
      if (*count == 0) return fail(r.error(g["count"], path + ".count", "must be at least 1"));
      group.count = *count;
    }
    if (g["config"]) {
      if (auto ok = read_role_config(r, g["config"], path + ".config", group); !ok) return ok;
    }
    if (g["port"]) {
      auto* server = std::get_if<EchoServerRole>(&group.settings);
      if (server == nullptr)
        return fail(r.error(g["port"], path + ".port", "only echo_server listens on a port"));
      auto port = r.count(g["port"], path + ".port", 65535);
      if (!port) return fail(port.error());
      server->port = *port;
    }
    s.topology.push_back(std::move(group));
  }
  return {};
}

Result<Scenario> read_scenario(const Reader& r, const YAML::Node& root, const std::string& file) {
  if (!root || root.IsNull())
    return fail(r.error(
        root, "", "the file is empty; a scenario needs at least name, duration and topology"));
  if (auto ok = r.expect_map(root, "",
                             {"name", "description", "duration", "heal_at", "network", "topology",
                              "tool_path", "faults", "buggify", "swarm", "invariants"});
      !ok) {
    return fail(ok.error());
  }
  Scenario s;
  s.file = file;
  for (const char* required : {"name", "duration", "topology"}) {
    if (!root[required])
      return fail(r.error(root, "", std::string("missing required key '") + required + "'"));
  }
  auto name = r.string(root["name"], "name");
  if (!name) return fail(name.error());
  s.name = *name;
  if (root["description"]) {
    auto description = r.string(root["description"], "description");
    if (!description) return fail(description.error());
    s.description = *description;
  }
  auto duration = r.duration(root["duration"], "duration");
  if (!duration) return fail(duration.error());
  if (*duration <= Duration::zero() || *duration > hours(24)) {
    return fail(r.error(root["duration"], "duration", "must be within (0, 24h]"));
  }
  s.duration = *duration;
  s.heal_at = s.duration * 2 / 3;
  if (root["heal_at"]) {
    auto heal = r.duration(root["heal_at"], "heal_at");
    if (!heal) return fail(heal.error());
    if (*heal >= s.duration)
      return fail(r.error(
          root["heal_at"], "heal_at",
          "must be before the end of the run (duration " + format_duration(s.duration) + ")"));
    s.heal_at = *heal;
  }
  if (root["swarm"]) {
    auto swarm = r.boolean(root["swarm"], "swarm");
    if (!swarm) return fail(swarm.error());
    s.swarm = *swarm;
  }
  if (root["buggify"]) {
    auto buggify = r.boolean(root["buggify"], "buggify");
    if (!buggify) return fail(buggify.error());
    s.buggify = *buggify;
  }
  if (root["network"]) {
    const auto& net = root["network"];
    if (auto ok = r.expect_map(net, "network", {"latency"}); !ok) return fail(ok.error());
    if (net["latency"]) {
      auto latency = r.range<Duration>(
          net["latency"], "network.latency",
          [&r](const YAML::Node& n, const std::string& p) { return r.duration(n, p); });
      if (!latency) return fail(latency.error());
      if (latency->min <= Duration::zero())
        return fail(r.error(net["latency"], "network.latency", "minimum latency must be positive"));
      s.latency = *latency;
    }
  }
  if (auto ok = read_topology(r, root["topology"], s); !ok) return fail(ok.error());
  const bool has_server = std::any_of(s.topology.begin(), s.topology.end(),
                                      [](const NodeGroup& g) { return g.is<EchoServerRole>(); });
  const bool has_client = std::any_of(s.topology.begin(), s.topology.end(),
                                      [](const NodeGroup& g) { return g.is<EchoClientConfig>(); });
  if (has_client && !has_server)
    return fail(
        r.error(root["topology"], "topology", "echo_client nodes need at least one echo_server"));
  if (s.has_role("engine_client") && !s.has_role("engine_worker")) {
    return fail(r.error(root["topology"], "topology",
                        "engine_client nodes need at least one engine_worker"));
  }
  if (auto ok = check_tool_and_chat_nodes(r, root["topology"], s); !ok) return fail(ok.error());
  if (root["tool_path"]) {
    if (auto ok = read_tool_path(r, root["tool_path"], s.tool_path); !ok) return fail(ok.error());
  }
  if (root["faults"]) {
    if (auto ok = read_faults(r, root["faults"], s); !ok) return fail(ok.error());
    // A declared fault must be able to fire.
    if (root["faults"]["store"] && !s.has_database()) {
      return fail(r.error(root["faults"]["store"], "faults.store",
                          "this scenario has no database (no engine_worker or gateway node): "
                          "store faults could never fire"));
    }
  }
  if (root["invariants"]) {
    const auto& inv = root["invariants"];
    if (!inv.IsSequence())
      return fail(r.error(inv, "invariants", "expected a list, got " + kind_of(inv)));
    for (std::size_t i = 0; i < inv.size(); ++i) {
      auto name = r.string(inv[i], "invariants[" + std::to_string(i) + "]");
      if (!name) return fail(name.error());
      if (std::find(kInvariants.begin(), kInvariants.end(), *name) == kInvariants.end()) {
        return fail(
            r.error(inv[i], "invariants[" + std::to_string(i) + "]",
                    "unknown invariant '" + *name + "' (known: " + join(kInvariants) + ")"));
      }
      s.invariants.push_back(*name);
    }
  } else {
    // By default, every invariant of the workloads present.
    if (s.has_role("echo_client")) {
      s.invariants.insert(s.invariants.end(), kEchoInvariants.begin(), kEchoInvariants.end());
    }
    if (s.has_role("engine_client")) {
      s.invariants.insert(s.invariants.end(), kEngineInvariants.begin(), kEngineInvariants.end());
    }
    if (s.has_role("daemon")) {
      s.invariants.insert(s.invariants.end(), kToolInvariants.begin(), kToolInvariants.end());
    }
  }
  return s;
}

}  // namespace

std::vector<std::string> Scenario::node_names() const {
  std::vector<std::string> names;
  for (const auto& group : topology) {
    for (int i = 1; i <= group.count; ++i) names.push_back(group.name + "-" + std::to_string(i));
  }
  return names;
}

namespace {

template <std::size_t I = 0>
std::optional<RoleSettings> role_settings_at_or_after(std::string_view role) {
  if constexpr (I == std::variant_size_v<RoleSettings>) {
    return std::nullopt;
  } else {
    if (kRoleNames[I] == role) return RoleSettings(std::in_place_index<I>);
    return role_settings_at_or_after<I + 1>(role);
  }
}

}  // namespace

std::optional<RoleSettings> role_settings_named(std::string_view role) {
  return role_settings_at_or_after(role);
}

bool Scenario::has_role(std::string_view role) const {
  return std::any_of(topology.begin(), topology.end(),
                     [&](const NodeGroup& g) { return g.role() == role; });
}

bool Scenario::has_database() const { return has_role("engine_worker") || has_role("gateway"); }

bool Scenario::checks(std::string_view invariant) const {
  return std::find(invariants.begin(), invariants.end(), invariant) != invariants.end();
}

Result<Duration> parse_duration(std::string_view text) {
  const std::string s(text);
  char* end = nullptr;
  const double value = std::strtod(s.c_str(), &end);
  if (s.empty() || end == s.c_str() || !std::isfinite(value)) {
    return fail(ErrorCode::invalid_argument,
                "'" + s + "' is not a duration (write e.g. 500ms, 2s, 1.5m)");
  }
  const std::string unit(end);
  double ns_per_unit = 0;
  if (unit == "ns")
    ns_per_unit = 1;
  else if (unit == "us")
    ns_per_unit = 1e3;
  else if (unit == "ms")
    ns_per_unit = 1e6;
  else if (unit == "s")
    ns_per_unit = 1e9;
  else if (unit == "m")
    ns_per_unit = 60e9;
  else if (unit == "h")
    ns_per_unit = 3600e9;
  else {
    return fail(ErrorCode::invalid_argument,
                "'" + s + "' has " + (unit.empty() ? "no unit" : "unknown unit '" + unit + "'") +
                    " (use ns, us, ms, s, m or h)");
  }
  const double ns = value * ns_per_unit;
  if (std::fabs(ns) > 9e18) return fail(ErrorCode::invalid_argument, "'" + s + "' is out of range");
  return Duration(static_cast<Duration::rep>(std::llround(ns)));
}

Result<Scenario> parse_scenario(std::string_view yaml, std::string file) {
  Reader reader(file);
  auto loaded = workflow::load_yaml(yaml);
  if (!loaded) {
    std::string where = file;
    const workflow::Mark& mark = loaded.error().mark;
    if (mark.line > 0) where += ":" + std::to_string(mark.line) + ":" + std::to_string(mark.column);
    // A syntax error's message starts "YAML: " already.
    std::string what = loaded.error().message;
    if (what.starts_with("YAML: ")) what = what.substr(6);
    return fail(ErrorCode::invalid_argument, where + ": invalid YAML: " + what);
  }
  try {
    return read_scenario(reader, *loaded, file);
  } catch (const YAML::Exception& e) {
    std::string where = file;
    if (!e.mark.is_null())
      where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    return fail(ErrorCode::invalid_argument, where + ": invalid YAML: " + e.msg);
  }
}

}  // namespace reliant::sim
