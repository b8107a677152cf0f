// The node type table (node_types.h).
#include "core/workflow/node_types.h"

#include "base/assert.h"

namespace reliant::workflow {
namespace {

using engine::ActivityOptions;

// A model call streams for minutes; its heartbeats tell a live one from a lost worker.
const ActivityOptions kModelCall{3, minutes(10), seconds(10)};
// Retries reach the daemon under the same request id, which answers a repeat from its result
// cache instead of running the tool again. Heartbeats while the tool runs tell a lost worker
// from a long command.
const ActivityOptions kDaemonCall{5, minutes(10), seconds(10)};
// Starting the child is one transaction; the node then waits for the child's end as state,
// holding no worker. A short lease: an attempt whose worker was lost is retried soon (the retry
// finds the child the first one started), not a minute later at each level of a family.
const ActivityOptions kChildRun{3, seconds(10), Duration::zero()};
const ActivityOptions kNone{};

// The last value of NodeType. Stops compiling (-Wswitch) when the enum gains a value not named
// here: name it, move kLastType if it is the new last, and give it a row in build().
constexpr NodeType kLastType = NodeType::inbox;
constexpr bool named(NodeType type) {
  switch (type) {
    case NodeType::call_llm:
    case NodeType::execute_tools:
    case NodeType::approval:
    case NodeType::ask_question:
    case NodeType::save_message:
    case NodeType::run:
    case NodeType::compact:
    case NodeType::create_worktree:
    case NodeType::loop:
    case NodeType::join:
    case NodeType::group:
    case NodeType::router:
    case NodeType::workflow:
    case NodeType::inbox:
      return true;
  }
  return false;
}
static_assert(named(kLastType));

// One row per enum value, in its order; an activity has a name, nothing else does.
void check(const std::vector<NodeTypeInfo>& types) {
  for (std::size_t i = 0; i < types.size(); ++i) {
    RELIANT_ASSERT(static_cast<std::size_t>(types[i].type) == i);
    RELIANT_ASSERT(!types[i].name.empty());
    RELIANT_ASSERT((types[i].role == NodeRole::activity) == !types[i].activity.empty());
  }
  RELIANT_ASSERT(types.size() == static_cast<std::size_t>(kLastType) + 1);
}

std::vector<NodeTypeInfo> build() {
  using R = NodeRole;
  std::vector<NodeTypeInfo> types = {
      {NodeType::call_llm,
       "call_llm",
       R::activity,
       {},
       {"presets", "project", "response", "tools"},
       "node.call_llm",
       kModelCall},
      {NodeType::execute_tools,
       "execute_tools",
       R::activity,
       {},
       {},
       "node.execute_tools",
       kDaemonCall},
      {NodeType::approval, "approval", R::person, {}, {"title", "actions"}, {}, kNone},
      {NodeType::ask_question,
       "ask_question",
       R::person,
       {},
       {"title", "question", "options", "multi"},
       {},
       kNone},
      {NodeType::save_message,
       "save_message",
       R::activity,
       {},
       {"role", "content", "display_style"},
       "node.save_message",
       ActivityOptions{10, seconds(30), Duration::zero()}},
      {NodeType::run,
       "run",
       R::activity,
       {},
       {"command", "env", "working_dir", "shell"},
       "node.run",
       kDaemonCall},
      {NodeType::compact, "compact", R::activity, {}, {}, "node.compact", kModelCall},
      {NodeType::create_worktree,
       "create_worktree",
       R::activity,
       {},
       {"name", "base_branch", "copy_files", "force"},
       "node.create_worktree",
       kDaemonCall},
      {NodeType::loop,
       "loop",
       R::control,
       {"ref", "inline", "while", "items", "parallel", "key", "on_failure", "passthrough"},
       {"presets", "project"},
       {},
       kNone},
      {NodeType::join, "join", R::control, {}, {}, {}, kNone},
      {NodeType::group, "group", R::control, {"inline"}, {}, {}, kNone},
      {NodeType::router, "router", R::control, {}, {}, {}, kNone},
      {NodeType::workflow,
       "workflow",
       R::activity,
       {"ref", "inline", "passthrough"},
       {"presets", "project", "response"},
       "node.workflow",
       kChildRun},
      // What the run's sub-agents and its parent agent sent (core/workflow/agent_inbox.h).
      {NodeType::inbox, "inbox", R::engine, {}, {"wait"}, {}, kNone},
  };
  check(types);
  return types;
}

}  // namespace

const std::vector<NodeTypeInfo>& node_types() {
  static const std::vector<NodeTypeInfo> types = build();
  return types;
}

const NodeTypeInfo& node_type_info(NodeType type) {
  const auto index = static_cast<std::size_t>(type);
  RELIANT_ASSERT(index < node_types().size());
  return node_types()[index];
}

}  // namespace reliant::workflow
