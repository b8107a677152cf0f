// Tools that run on the worker rather than on a daemon (seed 001's ToolRunsOnServer): the
// planning tools (plan_tools.h), kept per chat. They work with no daemon connected. And tools
// that run anywhere (ToolRunsAnywhere): `calculate` (core/calculate.h) runs on the node's daemon
// when it is online, here otherwise. Each call
// runs at most once, like a daemon's tool (docs/tool-path.md): its effect and its answer commit
// in one transaction under the call's request id, and a retried step reads that answer back.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/bus.h"
#include "runtime/llm.h"
#include "runtime/store.h"
#include "runtime/task.h"

namespace reliant::agent {

bool is_server_tool(std::string_view tool);
bool is_anywhere_tool(std::string_view tool);
// An anywhere tool, run here: its answer (is_error for a bad input). No store, no side effect.
struct ServerToolAnswer;
ServerToolAnswer run_anywhere_tool(std::string_view tool, const nlohmann::json& input);
// Whether a server tool changes nothing (it may run under a read-only tool filter).
bool server_tool_reads_only(std::string_view tool);
std::vector<llm::ToolSpec> server_tool_specs();

struct ServerToolCall {
  std::string request_id;  // the same on every attempt of the step
  std::string user_id;
  std::string chat_id;  // "": the run has no chat, and the planning tools have nowhere to keep
  std::string tool;
  nlohmann::json input;
  std::int64_t now_ms = 0;
};

struct ServerToolAnswer {
  std::string content;
  bool is_error = false;
};

// A change of the plan is recorded as the chat's `chat_plan` update ({plan, version}) in the
// same transaction. Fails only when the store does (the step retries); a bad input is an answer
// with is_error.
Task<Result<ServerToolAnswer>> run_server_tool(Store& store, Bus* bus, ServerToolCall call);

}  // namespace reliant::agent
