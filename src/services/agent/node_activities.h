// The workflow language's work nodes as activities (core/workflow/engine_workflow.h names them):
// node.call_llm, node.execute_tools, node.run, node.save_message, node.compact,
// node.create_worktree and node.workflow (a child run). Each takes the interpreter's action —
// key, evaluated args, thread, daemon selector and the run's context — and returns the node's
// output. Like the chat agent's steps, each writes under ids derived from its run and step, so
// a retried attempt finds the first attempt's work instead of doing it twice.
#pragma once

#include "services/agent/agent_activities.h"

namespace reliant::agent {

void register_node_activities(engine::ActivityRegistry& registry, const AgentDeps& deps);

}  // namespace reliant::agent
