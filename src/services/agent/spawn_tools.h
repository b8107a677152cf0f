// The spawn tools: an agent delegates to sub-agents. `spawn` starts one — a preset from the
// caller's spawn entry (core/workflow/tool_filter.h), a task, optionally a title and a model —
// as a child run of builtin://agent talking on a thread of its own, and answers at once with its
// agent_id; the sub-agent's end reaches the caller's inbox (core/workflow/agent_inbox.h) as a
// report on a later turn. `spawn_status` lists the caller's sub-agents or shows one (optionally
// waiting for it to end), `spawn_send` queues a message for a sub-agent's next turn (or, from a
// sub-agent, its parent's), `spawn_stop` asks one to stop at its next step.
//
// Durable and at most once: a sub-agent's id is the tools node's request id for the call, so a
// retried step finds the sub-agent its first attempt started; a message or a stop is recorded
// under the request id with its effect (server_tool_calls). Sub-agents are child runs, so the
// end of their parent cancels them (engine_sql's close_run). Bounded: kSpawnsRunningMax running
// per run, kSpawnsPerRunMax in all, kSpawnDepthMax levels of sub-agents.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/llm.h"
#include "services/agent/node_support.h"

namespace reliant::agent {

inline constexpr std::size_t kSpawnsRunningMax = 8;
inline constexpr std::size_t kSpawnsPerRunMax = 64;
inline constexpr std::int64_t kSpawnDepthMax = 3;
inline constexpr std::size_t kSpawnPromptBytesMax = 64 * 1024;
inline constexpr std::size_t kSpawnMessageBytesMax = 16 * 1024;
// How long spawn_status waits for a sub-agent to end, at most (its `timeout_s`).
inline constexpr std::int64_t kSpawnWaitSecondsMax = 300;

// The spawn tools as the model sees them: `spawn` with the presets it may start, the others
// working on what it started. A sub-agent (`spawned`) is also offered spawn_send to its parent.
std::vector<llm::ToolSpec> spawn_tool_specs(const std::vector<std::string>& presets, bool spawned);
// What a node's tool filter (a list, or null) lets spawn start: its spawn entries' presets, and
// the workflow (the first such entry's; a bare name is a built-in's: agent → builtin://agent).
std::vector<std::string> spawn_presets_in(const nlohmann::json& filter);
std::string spawn_workflow_in(const nlohmann::json& filter);
// Whether the run is a sub-agent: its context names the agent that spawned it.
bool is_spawned_run(const nlohmann::json& run_context);

struct SpawnToolCall {
  std::string request_id;  // the same on every attempt of the step
  std::string tool;
  nlohmann::json input;
  std::vector<std::string> presets;  // what `spawn` may start (the filter's spawn entries)
  std::string workflow_ref;          // what a spawn runs: builtin://agent
};

struct SpawnToolAnswer {
  std::string content;
  bool is_error = false;
  nlohmann::json spawned;  // spawn: {agent_id, preset, title}; else null
};

// Fails only when the store does (the step retries); a mistake of the model's — a preset it may
// not start, the limit reached, an agent not its own — is an answer with is_error.
Task<Result<SpawnToolAnswer>> run_spawn_tool(const AgentDeps& deps,
                                             engine::ActivityContext& context,
                                             const NodeInput& node, SpawnToolCall call);

}  // namespace reliant::agent
