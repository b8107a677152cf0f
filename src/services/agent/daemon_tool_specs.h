// DaemonToolSpecs: the MCP tools of a node's daemon as a model is offered them — asked of the
// daemon ("tool_specs") and kept for a while per daemon, so a chat's turns do not each ask. A
// daemon that cannot be chosen or asked offers none: the node goes on with the built-in tools.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/lru_map.h"
#include "base/time.h"
#include "runtime/llm.h"
#include "services/agent/node_support.h"

namespace reliant::agent {

// Whether `filter` may take an MCP tool: no filter, tag:default/all/mcp, or an mcp__ name.
bool may_offer_mcp(const nlohmann::json& filter);

class DaemonToolSpecs {
 public:
  explicit DaemonToolSpecs(Duration keep_for = seconds(30), std::size_t daemons = 256)
      : keep_for_(keep_for), kept_(daemons) {}

  // The MCP tools of the daemon `node` runs on, at most kMcpToolsOffered of them.
  Task<std::vector<llm::ToolSpec>> for_node(const AgentDeps& deps, Executor& executor,
                                            NodeInput node);

  static constexpr std::size_t kMcpToolsOffered = 128;

 private:
  struct Kept {
    Instant until;
    std::vector<llm::ToolSpec> specs;
  };
  Duration keep_for_;
  LruMap<Kept> kept_;  // by user and daemon
};

}  // namespace reliant::agent
