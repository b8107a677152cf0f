// The `agent` workflow: the chat's agent loop on the durable engine (spec S3.4). Each user
// message starts a run: ask the model (activity `llm_turn`), run each tool call it made on the
// daemon the selection cascade picks (`tool_call`, one at a time, in the model's order), ask
// again with the results, until the model answers without tools — that `llm_turn` records the
// end of the run with the answer — or `max_turns` is reached or a step fails; then
// `chat_finish` records that outcome. So every user message gets exactly one final outcome.
// The activities (services/agent) persist messages and updates.
#pragma once

#include "core/engine/workflow.h"

namespace reliant::agent {

inline constexpr std::string_view agent_workflow_name = "agent";
inline constexpr std::string_view llm_turn_activity = "llm_turn";
inline constexpr std::string_view tool_call_activity = "tool_call";
inline constexpr std::string_view chat_finish_activity = "chat_finish";

// llm_turn and tool_call beat this often while they wait; an attempt silent for the timeout is
// taken over by another worker (the tool's request id makes the retry safe).
inline constexpr Duration agent_heartbeat_interval = seconds(2);
inline constexpr Duration agent_heartbeat_timeout = seconds(10);

// Input: {"chat_id", "user_id", "model"?, "max_turns"? (1..100, default 20), "daemon"? (a
// selector: shorthand string or {id, name, type, labels}), "tool_timeout_ms"?}.
// `llm_turn` returns {"message_id", "text", "tool_calls": [{"id", "name", "input"}]};
// `tool_call` returns {"message_id", "content", "is_error"}; `chat_finish` returns {}.
// Result: {"outcome": "completed"|"max_turns", "message_id"?, "turns"}.
class AgentWorkflow final : public engine::Workflow {
 public:
  std::string_view name() const override { return agent_workflow_name; }
  Result<std::vector<engine::Command>> decide(const engine::RunState& state) const override;
};

// The chat agent's workflows: the C++ loop (`agent`, for runs started before chats ran
// builtin://agent) and the workflow language's engine workflow (`workflow`).
void register_agent_workflow(engine::WorkflowRegistry& registry);

}  // namespace reliant::agent
