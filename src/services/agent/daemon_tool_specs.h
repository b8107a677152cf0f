// DaemonToolSpecs: the MCP tools of a node's daemon as a model is offered them — asked of the
// daemon ("tool_specs") and kept for a while per daemon, so a chat's turns do not each ask. A
// daemon that cannot be chosen or asked offers none: the node goes on with the built-in tools.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/lru_map.h"
#include "base/time.h"
#include "runtime/llm.h"
#include "services/agent/node_support.h"

namespace reliant::agent {

// Whether `filter` may take an MCP tool: no filter, tag:default/all/mcp, a tag the built-in
// tools do not use (a server's name, or a tag its configuration gives), or an mcp__ name.
bool may_offer_mcp(const nlohmann::json& filter);

// The MCP tools offered for a node, and the daemon they come from (empty when none was chosen).
struct OfferedTools {
  std::string daemon_id;
  std::vector<llm::ToolSpec> specs;
};

class DaemonToolSpecs {
 public:
  // An answer that leaves out servers still starting is kept `keep_partial_for`, so that their
  // tools are offered soon after they are up.
  explicit DaemonToolSpecs(Duration keep_for = seconds(30), std::size_t daemons = 256,
                           Duration keep_partial_for = seconds(5))
      : keep_for_(keep_for), keep_partial_for_(keep_partial_for), kept_(daemons) {}

  // The MCP tools of the daemon `node` runs on as the store has it (the gateways are not asked),
  // at most kMcpToolsOffered of them.
  // `read`: the daemons to choose among, when the caller read them with its own reads.
  Task<OfferedTools> for_node(const AgentDeps& deps, Executor& executor, NodeInput node,
                              std::optional<ChatDaemons> read = std::nullopt);

  // The configured tags of an MCP tool of `daemon_id` as last asked (empty when unknown).
  std::vector<std::string> tags(const std::string& user_id, const std::string& daemon_id,
                                const std::string& tool) const;

  static constexpr std::size_t kMcpToolsOffered = 128;

 private:
  struct Kept {
    SteadyInstant until;
    std::vector<llm::ToolSpec> specs;
    std::map<std::string, std::vector<std::string>> tags;  // by tool name
  };
  Duration keep_for_;
  Duration keep_partial_for_;
  LruMap<Kept> kept_;  // by user and daemon
};

}  // namespace reliant::agent
