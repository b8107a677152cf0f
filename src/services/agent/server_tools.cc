// Server tools (server_tools.h): the planning tools, stored per chat, once per request id.
#include "services/agent/server_tools.h"

#include "core/calculate.h"

#include "services/agent/plan_tools.h"
#include "services/storage/plans.h"
#include "services/updates/user_events.h"

namespace reliant::agent {

bool is_server_tool(std::string_view tool) { return is_plan_tool(tool); }

bool is_anywhere_tool(std::string_view tool) { return tool == kCalculateTool; }

ServerToolAnswer run_anywhere_tool(std::string_view tool, const nlohmann::json& input) {
  if (tool != kCalculateTool) return {"no tool " + std::string(tool) + " runs here", true};
  auto value = calculate(input);
  if (!value) return {value.error().message, true};
  return {std::move(*value), false};
}

bool server_tool_reads_only(std::string_view tool) { return plan_tool_reads_only(tool); }

std::vector<llm::ToolSpec> server_tool_specs() { return plan_tool_specs(); }

Task<Result<ServerToolAnswer>> run_server_tool(Store& store, Bus* bus, ServerToolCall call) {
  if (!is_server_tool(call.tool)) {
    co_return ServerToolAnswer{call.tool + " is not a tool the server runs", true};
  }
  if (call.chat_id.empty()) {
    co_return ServerToolAnswer{call.tool + " keeps a chat's plan, and this run has no chat", true};
  }
  auto body = [call](SqlTransaction& tx,
                     std::vector<updates::UserEvent>& events) -> Result<ServerToolAnswer> {
    auto earlier = find_server_tool_call(tx, call.request_id);
    if (!earlier) return fail(earlier.error());
    if (*earlier) return ServerToolAnswer{(*earlier)->content, (*earlier)->is_error};
    auto stored = find_chat_plan(tx, call.chat_id);
    if (!stored) return fail(stored.error());
    const std::optional<nlohmann::json> plan =
        *stored ? std::optional<nlohmann::json>((*stored)->plan) : std::nullopt;
    PlanToolResult result = run_plan_tool(call.tool, plan, call.input);
    if (result.plan) {
      ChatPlanRecord changed = *stored ? std::move(**stored) : ChatPlanRecord{call.chat_id};
      changed.plan = std::move(*result.plan);
      auto version = save_chat_plan(tx, changed, call.now_ms);
      if (!version) return fail(version.error());
      events.push_back(updates::UserEvent{call.user_id,
                                          0,
                                          "chat_plan",
                                          call.chat_id,
                                          {{"plan", changed.plan}, {"version", *version}},
                                          call.now_ms});
    }
    if (auto recorded = insert_server_tool_call(tx, {call.request_id, call.chat_id, call.tool,
                                                     result.content, result.is_error, call.now_ms});
        !recorded) {
      return fail(recorded.error());
    }
    return ServerToolAnswer{std::move(result.content), result.is_error};
  };
  Task<Result<ServerToolAnswer>> running =
      updates::commit_and_announce(store, bus, std::move(body));
  co_return co_await running;
}

}  // namespace reliant::agent
