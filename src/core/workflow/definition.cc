// Names of node types, thread modes and failure policies, and the graph's indexes.
#include "core/workflow/definition.h"

#include "base/assert.h"
#include "core/workflow/node_types.h"

namespace reliant::workflow {

std::string_view to_string(NodeType type) noexcept { return node_type_info(type).name; }

std::optional<NodeType> node_type_named(std::string_view name) noexcept {
  for (const auto& info : node_types()) {
    if (info.name == name) return info.type;
  }
  return std::nullopt;
}

std::string_view to_string(ThreadMode mode) noexcept {
  switch (mode) {
    case ThreadMode::inherit:
      return "inherit";
    case ThreadMode::fresh:
      return "new";
    case ThreadMode::fork:
      return "fork";
  }
  return "?";
}

std::string_view to_string(FailurePolicy policy) noexcept {
  return policy == FailurePolicy::pause ? "pause" : "fail";
}

std::optional<FailurePolicy> failure_policy_named(std::string_view name) noexcept {
  if (name == "pause") return FailurePolicy::pause;
  if (name == "fail") return FailurePolicy::fail;
  return std::nullopt;
}

std::string_view to_string(LoopFailurePolicy policy) noexcept {
  switch (policy) {
    case LoopFailurePolicy::carry_on:
      return "continue";
    case LoopFailurePolicy::fail_fast:
      return "fail_fast";
    case LoopFailurePolicy::fail_all:
      return "fail_all";
  }
  return "?";
}

std::optional<LoopFailurePolicy> loop_failure_policy_named(std::string_view name) noexcept {
  for (const auto policy :
       {LoopFailurePolicy::carry_on, LoopFailurePolicy::fail_fast, LoopFailurePolicy::fail_all}) {
    if (to_string(policy) == name) return policy;
  }
  return std::nullopt;
}

const NodeSpec* Graph::find(std::string_view id) const {
  const auto it = index.find(id);
  return it == index.end() ? nullptr : &nodes[it->second];
}

void Graph::finish() {
  index.clear();
  for (std::size_t i = 0; i < nodes.size(); ++i) index.emplace(nodes[i].id, i);
  edges_from.assign(nodes.size(), {});
  std::vector<std::vector<std::size_t>> successors(nodes.size());
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const auto from = index.find(edges[e].from);
    RELIANT_ASSERT(from != index.end());
    edges_from[from->second].push_back(e);
    auto add = [&](const std::string& to) {
      const auto it = index.find(to);
      RELIANT_ASSERT(it != index.end());
      successors[from->second].push_back(it->second);
    };
    for (const auto& c : edges[e].cases) {
      for (const auto& to : c.to) add(to);
    }
    for (const auto& to : edges[e].fallback) add(to);
  }
  // Transitive closure by a search from each node: graphs are small (bounded by kNodesMax)
  // and this runs once per load.
  reaches.assign(nodes.size(), std::vector<bool>(nodes.size(), false));
  for (std::size_t a = 0; a < nodes.size(); ++a) {
    std::vector<std::size_t> stack(successors[a].begin(), successors[a].end());
    while (!stack.empty()) {
      const auto b = stack.back();
      stack.pop_back();
      if (reaches[a][b]) continue;
      reaches[a][b] = true;
      stack.insert(stack.end(), successors[b].begin(), successors[b].end());
    }
  }
}

}  // namespace reliant::workflow
