// DaemonToolSpecs: one "tool_specs" daemon command per daemon and keep_for (see the header).
#include "services/agent/daemon_tool_specs.h"

#include <algorithm>
#include <set>
#include <utility>

#include "base/json_parse.h"
#include "core/workflow/tool_filter.h"

namespace reliant::agent {

using Json = nlohmann::json;

bool may_offer_mcp(const Json& filter) {
  if (filter.is_null()) return true;
  const auto parsed = workflow::parse_tool_filter(filter);
  if (!parsed) return false;
  if (!parsed->has_includes) return true;  // excludes only: every tool but those
  // The built-in tools' own tags say nothing of MCP tools (plan mode's readonly above all).
  static const std::set<std::string, std::less<>> builtin = {
      "readonly", "plan", "read", "planning", "edit", "write", "shell", "bash", "search"};
  return std::any_of(parsed->entries.begin(), parsed->entries.end(), [](const auto& entry) {
    using Kind = workflow::ToolFilterEntry::Kind;
    if (entry.exclude) return false;
    switch (entry.kind) {
      case Kind::name:
        return entry.text.starts_with("mcp__");
      case Kind::pattern:
        return entry.text.starts_with("mcp__") || entry.text.starts_with('*');
      case Kind::tag:
        return !builtin.contains(entry.text);
      case Kind::spawn:
        return false;
    }
    return false;
  });
}

std::vector<std::string> DaemonToolSpecs::tags(const std::string& user_id,
                                               const std::string& daemon_id,
                                               const std::string& tool) const {
  const Kept* kept = kept_.peek(user_id + "/" + daemon_id);
  if (kept == nullptr) return {};
  const auto it = kept->tags.find(tool);
  return it == kept->tags.end() ? std::vector<std::string>{} : it->second;
}

Task<OfferedTools> DaemonToolSpecs::for_node(const AgentDeps& deps, Executor& executor,
                                             NodeInput node, std::optional<ChatDaemons> read) {
  const std::string user_id = node.user_id;
  // The rows' word: asking the gateways costs every model call a round trip through the bus to
  // each of them, and an offer is only that. A daemon whose row outlived it (its gateway died;
  // the lease lets go of it within stale_after) offers what was kept of it or nothing, and a call
  // of one of its tools is routed with the gateways asked (node_tool_activities), as every call is.
  Task<Result<std::string>> choosing =
      read ? choose_node_daemon(deps, std::move(node), std::move(*read), DaemonPresence::as_stored)
           : node_daemon(deps, std::move(node), DaemonPresence::as_stored);
  Result<std::string> daemon_id = co_await choosing;
  if (!daemon_id || daemon_id->empty()) co_return OfferedTools{};
  const std::string key = user_id + "/" + *daemon_id;
  if (const Kept* kept = kept_.peek(key); kept != nullptr && executor.steady_now() < kept->until) {
    co_return OfferedTools{*daemon_id, kept->specs};
  }
  Task<Result<daemon::v1::DaemonCommandResult>> asking =
      deps.router.daemon_command(user_id, *daemon_id, "tool_specs", "{}");
  Result<daemon::v1::DaemonCommandResult> answer = co_await asking;
  // Not kept on failure: an older daemon, or servers still starting, may answer next time.
  if (!answer || !answer->ok()) co_return OfferedTools{*daemon_id, {}};
  const Json list = parse_json_or_discarded(answer->output_json(), kStoredJsonDepthMax);
  std::vector<llm::ToolSpec> specs;
  std::map<std::string, std::vector<std::string>> tags;
  bool partial = false;  // a server was still starting: its tools come in a later answer
  if (list.is_array()) {
    for (const auto& entry : list) {
      if (entry.is_object() && entry.contains("starting")) partial = true;
      if (specs.size() >= kMcpToolsOffered) continue;
      if (!entry.is_object() || !entry.value("name", Json()).is_string()) continue;
      const std::string name = entry["name"].get<std::string>();
      if (!name.starts_with("mcp__")) continue;  // a daemon offers nothing else this way
      const Json schema = entry.value("input_schema", Json());
      const Json description = entry.value("description", Json());
      specs.push_back({name, description.is_string() ? description.get<std::string>() : "",
                       schema.is_object() ? schema : Json{{"type", "object"}}});
      for (const auto& tag : entry.value("tags", Json::array())) {
        if (tag.is_string()) tags[name].push_back(tag.get<std::string>());
      }
    }
  }
  kept_.put(key, Kept{executor.steady_now() + (partial ? keep_partial_for_ : keep_for_), specs,
                      std::move(tags)});
  co_return OfferedTools{*daemon_id, std::move(specs)};
}

}  // namespace reliant::agent
