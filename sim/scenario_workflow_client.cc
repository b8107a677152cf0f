// The parts of a workflow_client's config (scenario_reader.h): its project's other workflows,
// what it expects of its runs, and its `control:` section — when it pauses and resumes its runs,
// which it starts to hold a failed step and what it does with that step, and the input it
// changes before answering an approval.
#include "core/workflow/loader.h"
#include "core/workflow/yaml_values.h"
#include "sim/scenario_reader.h"

namespace reliant::sim::scenario_file {
namespace {

Result<void> read_control_range(const Reader& r, const YAML::Node& node, const std::string& path,
                                Duration& min, Duration& max) {
  if (!node) return {};
  auto range = r.range<Duration>(
      node, path, [&r](const YAML::Node& n, const std::string& p) { return r.duration(n, p); });
  if (!range) return fail(range.error());
  min = range->min;
  max = range->max;
  return {};
}

Result<void> read_control_shares(const Reader& r, const YAML::Node& node, const std::string& path,
                                 const std::vector<std::pair<const char*, double*>>& shares) {
  for (const auto& [key, target] : shares) {
    if (!node[key]) continue;
    auto share = r.probability(node[key], path + "." + key);
    if (!share) return fail(share.error());
    *target = *share;
  }
  return {};
}

Result<nlohmann::json> read_control_map(const Reader& r, const YAML::Node& node,
                                        const std::string& path) {
  if (!node) return nlohmann::json::object();
  if (!node.IsMap()) return fail(r.error(node, path, "expected a map, got " + kind_of(node)));
  return workflow::to_json(node);
}

// pause: {share, after: [min, max], length: [min, max], at_approval, leave}
Result<void> read_pause(const Reader& r, const YAML::Node& node, const std::string& path,
                        WorkflowControlConfig& c) {
  if (auto ok = r.expect_map(node, path, {"share", "after", "length", "at_approval", "leave"}); !ok)
    return ok;
  if (auto ok = read_control_shares(r, node, path,
                                    {{"share", &c.pause_share},
                                     {"at_approval", &c.pause_at_approval},
                                     {"leave", &c.leave_paused}});
      !ok)
    return ok;
  if (auto ok = read_control_range(r, node["after"], path + ".after", c.pause_after_min,
                                   c.pause_after_max);
      !ok)
    return ok;
  return read_control_range(r, node["length"], path + ".length", c.pause_length_min,
                            c.pause_length_max);
}

// hold: {share, inputs, react_after, retry, skip, fail, leave, retry_args, skip_output}: the
// four actions are weights, at least one of them positive.
Result<void> read_hold(const Reader& r, const YAML::Node& node, const std::string& path,
                       WorkflowControlConfig& c) {
  if (auto ok = r.expect_map(node, path,
                             {"share", "inputs", "react_after", "retry", "skip", "fail", "leave",
                              "retry_args", "skip_output"});
      !ok)
    return ok;
  if (auto ok = read_control_shares(r, node, path, {{"share", &c.hold_share}}); !ok) return ok;
  if (auto ok = read_control_range(r, node["react_after"], path + ".react_after", c.react_after_min,
                                   c.react_after_max);
      !ok)
    return ok;
  for (const auto& [key, weight] :
       {std::pair{"retry", &c.retry_weight}, std::pair{"skip", &c.skip_weight},
        std::pair{"fail", &c.fail_weight}, std::pair{"leave", &c.leave_weight}}) {
    if (!node[key]) continue;
    auto read = r.number(node[key], path + "." + key);
    if (!read) return fail(read.error());
    if (*read < 0) return fail(r.error(node[key], path + "." + key, "a weight is not negative"));
    *weight = *read;
  }
  if (c.retry_weight + c.skip_weight + c.fail_weight + c.leave_weight <= 0)
    return fail(r.error(node, path, "retry, skip, fail and leave weigh nothing"));
  for (const auto& [key, target] :
       {std::pair{"inputs", &c.hold_inputs}, std::pair{"retry_args", &c.retry_args},
        std::pair{"skip_output", &c.skip_output}}) {
    auto map = read_control_map(r, node[key], path + "." + key);
    if (!map) return fail(map.error());
    *target = std::move(*map);
  }
  return {};
}

// set_input: {share, name, value}
Result<void> read_set_input(const Reader& r, const YAML::Node& node, const std::string& path,
                            WorkflowControlConfig& c) {
  if (auto ok = r.expect_map(node, path, {"share", "name", "value"}); !ok) return ok;
  if (auto ok = read_control_shares(r, node, path, {{"share", &c.set_share}}); !ok) return ok;
  if (!node["name"] || !node["value"])
    return fail(r.error(node, path, "needs the input's name and its new value"));
  auto name = r.string(node["name"], path + ".name");
  if (!name) return fail(name.error());
  c.set_name = *name;
  c.set_value = workflow::to_json(node["value"]);
  return {};
}

}  // namespace

Result<std::string> read_workflow_yaml(const Reader& r, const YAML::Node& node,
                                       const std::string& path) {
  auto text = r.string(node, path);
  if (!text) return fail(text.error());
  if (auto loaded = workflow::load_workflow(*text, "workflow"); !loaded)
    return fail(r.error(node, path, workflow::format("workflow", loaded.error().front())));
  return text;
}

// `project:` and `project_workflows:`, the other workflows of its project, each checked.
Result<void> read_project_config(const Reader& r, const YAML::Node& config, const std::string& path,
                                 WorkflowClientConfig& client) {
  if (config["project"]) {
    auto project = r.boolean(config["project"], path + ".project");
    if (!project) return fail(project.error());
    client.project = *project;
  }
  const YAML::Node extra = config["project_workflows"];
  if (!extra) return {};
  const std::string at = path + ".project_workflows";
  if (!client.project) return fail(r.error(extra, at, "needs project: true"));
  if (!extra.IsSequence()) return fail(r.error(extra, at, "expected a list of workflow YAMLs"));
  for (std::size_t i = 0; i < extra.size(); ++i) {
    const std::string item = at + "[" + std::to_string(i) + "]";
    auto yaml = r.string(extra[i], item);
    if (!yaml) return fail(yaml.error());
    if (auto loaded = workflow::load_workflow(*yaml, item); !loaded) {
      return fail(r.error(extra[i], item, workflow::format(item, loaded.error().front())));
    }
    client.project_workflows.push_back(*yaml);
  }
  return {};
}

// A workflow_client's `expect:`: every expectation names an outcome and the outputs it expects.
Result<void> read_expectations(const Reader& r, const YAML::Node& config, const std::string& path,
                               WorkflowClientConfig& client) {
  if (!config["expect"] || !config["expect"].IsMap() || config["expect"].size() == 0) {
    return fail(r.error(config["expect"] ? config["expect"] : config, path + ".expect",
                        "expected a map from the approvals' answers (\"approved\", "
                        "\"denied,approved\", \"none\") to {outcome, outputs}"));
  }
  for (const auto& entry : config["expect"]) {
    const std::string key = entry.first.Scalar();
    const std::string at = path + ".expect." + key;
    if (auto ok = r.expect_map(entry.second, at, {"outcome", "outputs"}); !ok) return ok;
    WorkflowExpectation expectation;
    if (entry.second["outcome"]) {
      auto outcome = r.string(entry.second["outcome"], at + ".outcome");
      if (!outcome) return fail(outcome.error());
      if (*outcome != "completed" && *outcome != "failed") {
        return fail(r.error(entry.second["outcome"], at + ".outcome",
                            "expected completed or failed, got '" + *outcome + "'"));
      }
      expectation.outcome = *outcome;
    }
    if (entry.second["outputs"]) {
      if (!entry.second["outputs"].IsMap()) {
        return fail(r.error(entry.second["outputs"], at + ".outputs",
                            "expected a map, got " + kind_of(entry.second["outputs"])));
      }
      expectation.outputs = workflow::to_json(entry.second["outputs"]);
    }
    client.expect[key] = std::move(expectation);
  }
  return {};
}

Result<void> read_workflow_control(const Reader& r, const YAML::Node& node, const std::string& path,
                                   WorkflowControlConfig& control) {
  if (auto ok = r.expect_map(node, path, {"pause", "hold", "set_input"}); !ok) return ok;
  if (node["pause"]) {
    if (auto ok = read_pause(r, node["pause"], path + ".pause", control); !ok) return ok;
  }
  if (node["hold"]) {
    if (auto ok = read_hold(r, node["hold"], path + ".hold", control); !ok) return ok;
  }
  if (node["set_input"]) {
    if (auto ok = read_set_input(r, node["set_input"], path + ".set_input", control); !ok)
      return ok;
  }
  return {};
}

}  // namespace reliant::sim::scenario_file
