// Every node type, declared once: its YAML name; what it is to the engine (an activity a worker
// runs, a wait for a person, or control the interpreter does itself); the keys the loader takes
// at its top level beside the common ones; and for an activity, its name and its attempts and
// timeouts. Adding a type is its enum value (definition.h), its row here and, for an activity,
// one handler registered under the row's activity name: the table is checked against the enum
// when first read, and a worker whose registry lacks a row's activity does not start
// (agent/node_activities.cc).
#pragma once

#include <string_view>
#include <vector>

#include "core/engine/workflow.h"
#include "core/workflow/definition.h"

namespace reliant::workflow {

enum class NodeRole {
  activity,  // scheduled on a worker: call_llm, run, workflow, …
  person,    // waits for a user's answer (a signal) or its timeout (a timer)
  control,   // the interpreter's own: loop, join, group, router
  engine,    // answered by the engine workflow from the run's own history: inbox
};

struct NodeTypeInfo {
  NodeType type;
  std::string_view name;  // in YAML: `type: NAME`, or NAME as the node's one key
  NodeRole role;
  std::vector<std::string_view> structural_keys;  // read by the loader itself
  std::vector<std::string_view> arg_keys;         // merged into args (`command:` → args.command)
  std::string_view activity;                      // role activity: "node.<name>"
  engine::ActivityOptions options;                // role activity: attempts and timeouts
};

// In the enum's order, one row per type.
const std::vector<NodeTypeInfo>& node_types();
const NodeTypeInfo& node_type_info(NodeType type);

}  // namespace reliant::workflow
