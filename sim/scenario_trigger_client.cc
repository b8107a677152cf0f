// A trigger_client's config (scenario_reader.h): its workflow, which must load; the schedule
// triggers it makes, each named once; and how long it disables and enables them.
#include <set>

#include "core/workflow/yaml_values.h"
#include "sim/scenario_reader.h"

namespace reliant::sim::scenario_file {
namespace {

// triggers: [{name, schedule: {…}, params: {…}}]: the api checks each schedule when it is made.
Result<void> read_client_triggers(const Reader& r, const YAML::Node& node, const std::string& path,
                                  TriggerClientConfig& client) {
  if (!node.IsSequence() || node.size() == 0)
    return fail(r.error(node, path, "expected a non-empty list of triggers, got " + kind_of(node)));
  std::set<std::string> names;
  for (std::size_t i = 0; i < node.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (auto ok = r.expect_map(node[i], at, {"name", "schedule", "params"}); !ok) return ok;
    if (!node[i]["name"] || !node[i]["schedule"])
      return fail(r.error(node[i], at, "a trigger needs a name and a schedule"));
    auto name = r.string(node[i]["name"], at + ".name");
    if (!name) return fail(name.error());
    if (!names.insert(*name).second)
      return fail(r.error(node[i]["name"], at + ".name", "a second trigger named " + *name));
    TriggerClientTrigger trigger;
    trigger.name = *name;
    for (const auto& [key, target] :
         {std::pair{"schedule", &trigger.schedule}, std::pair{"params", &trigger.params}}) {
      if (!node[i][key]) continue;
      if (!node[i][key].IsMap())
        return fail(r.error(node[i][key], at + "." + key, "expected a map"));
      *target = workflow::to_json(node[i][key]);
    }
    client.triggers.push_back(std::move(trigger));
  }
  return {};
}

}  // namespace

Result<void> read_trigger_client_config(const Reader& r, const YAML::Node& config,
                                        const std::string& path, TriggerClientConfig& client) {
  if (auto ok = r.expect_map(
          config, path,
          {"user", "request_timeout", "workflow", "triggers", "toggle_every", "toggle_until"});
      !ok)
    return ok;
  if (config["user"]) {
    auto user = r.string(config["user"], path + ".user");
    if (!user) return fail(user.error());
    client.user = *user;
  }
  if (!config["workflow"] || !config["triggers"])
    return fail(r.error(config, path, "needs its workflow (YAML) and the triggers it makes"));
  auto text = read_workflow_yaml(r, config["workflow"], path + ".workflow");
  if (!text) return fail(text.error());
  client.workflow = *text;
  if (auto ok = read_client_triggers(r, config["triggers"], path + ".triggers", client); !ok)
    return ok;
  if (config["toggle_every"]) {
    auto every = r.range<Duration>(
        config["toggle_every"], path + ".toggle_every",
        [&r](const YAML::Node& n, const std::string& p) { return r.duration(n, p); });
    if (!every) return fail(every.error());
    if (every->min <= Duration::zero())
      return fail(r.error(config["toggle_every"], path + ".toggle_every", "must be positive"));
    client.toggle_every_min = every->min;
    client.toggle_every_max = every->max;
  }
  for (const auto& [key, target] : {std::pair{"request_timeout", &client.request_timeout},
                                    std::pair{"toggle_until", &client.toggle_until}}) {
    if (!config[key]) continue;
    auto value = r.duration(config[key], path + "." + key);
    if (!value) return fail(value.error());
    *target = *value;
  }
  return {};
}

}  // namespace reliant::sim::scenario_file
