// The agent loop as a pure decision over the run's history.
#include "core/agent/agent_workflow.h"

#include "core/workflow/engine_workflow.h"

namespace reliant::agent {
namespace {

using engine::ActivityState;
using engine::Json;

constexpr std::int64_t default_max_turns = 20;
constexpr std::int64_t default_tool_timeout_ms = 10 * 60 * 1000;

Result<void> check_input(const Json& input) {
  auto fail = [](std::string what) {
    return tl::unexpected(Error{ErrorCode::invalid_argument, "agent input: " + std::move(what)});
  };
  if (!input.is_object()) return fail("must be an object");
  for (const char* key : {"chat_id", "user_id"}) {
    if (!input.contains(key) || !input[key].is_string() || input[key].get<std::string>().empty()) {
      return fail(std::string("\"") + key + "\" must be a non-empty string");
    }
  }
  if (input.contains("max_turns")) {
    const auto& turns = input["max_turns"];
    if (!turns.is_number_integer() || turns.get<std::int64_t>() < 1 ||
        turns.get<std::int64_t>() > 100) {
      return fail("\"max_turns\" must be an integer from 1 to 100");
    }
  }
  if (input.contains("tool_timeout_ms")) {
    const auto& timeout = input["tool_timeout_ms"];
    if (!timeout.is_number_integer() || timeout.get<std::int64_t>() < 1) {
      return fail("\"tool_timeout_ms\" must be a positive integer");
    }
  }
  return {};
}

Json base_input(const Json& input) {
  Json out = {{"chat_id", input["chat_id"]}, {"user_id", input["user_id"]}};
  if (input.contains("model")) out["model"] = input["model"];
  return out;
}

engine::ScheduleActivity llm_turn(const Json& input, std::int64_t turn) {
  Json body = base_input(input);
  body["turn"] = turn;
  engine::ActivityOptions options;
  options.attempts_max = 3;
  options.start_to_close = minutes(10);
  options.heartbeat_timeout = agent_heartbeat_timeout;
  return {std::string(llm_turn_activity), std::move(body), options};
}

engine::ScheduleActivity tool_call(const Json& input, const Json& call) {
  Json body = base_input(input);
  body["tool_call"] = call;
  if (input.contains("daemon")) body["daemon"] = input["daemon"];
  const std::int64_t timeout_ms = input.value("tool_timeout_ms", default_tool_timeout_ms);
  body["timeout_ms"] = timeout_ms;
  engine::ActivityOptions options;
  // Every attempt sends the same request id, so a retry never runs the tool twice.
  options.attempts_max = 5;
  options.start_to_close = milliseconds(timeout_ms) + minutes(1);
  options.heartbeat_timeout = agent_heartbeat_timeout;
  return {std::string(tool_call_activity), std::move(body), options};
}

engine::ScheduleActivity chat_finish(const Json& input, Json outcome) {
  Json body = base_input(input);
  body.update(outcome);
  engine::ActivityOptions options;
  options.attempts_max = 10;
  options.start_to_close = seconds(30);
  return {std::string(chat_finish_activity), std::move(body), options};
}

}  // namespace

Result<std::vector<engine::Command>> AgentWorkflow::decide(const engine::RunState& state) const {
  const Json& input = state.input;
  if (auto ok = check_input(input); !ok) return tl::unexpected(ok.error());
  const std::int64_t turns_max = input.value("max_turns", default_max_turns);

  std::vector<const ActivityState*> steps;
  std::int64_t turns = 0;
  for (const auto& [seq, activity] : state.activities) {
    if (activity.status == ActivityState::Status::pending) return std::vector<engine::Command>{};
    steps.push_back(&activity);
    if (activity.name == llm_turn_activity) ++turns;
  }
  if (steps.empty()) return std::vector<engine::Command>{llm_turn(input, 1)};

  const ActivityState& last = *steps.back();
  if (last.name == chat_finish_activity) {
    if (last.status == ActivityState::Status::failed) {
      return std::vector<engine::Command>{
          engine::FailRun{"recording the outcome failed: " + last.error}};
    }
    const std::string outcome = last.input.value("outcome", std::string());
    if (outcome == "failed") {
      return std::vector<engine::Command>{
          engine::FailRun{last.input.value("error", std::string())}};
    }
    Json result = {{"outcome", outcome}, {"turns", turns}};
    if (last.input.contains("message_id")) result["message_id"] = last.input["message_id"];
    return std::vector<engine::Command>{engine::CompleteRun{std::move(result)}};
  }
  if (last.status == ActivityState::Status::failed) {
    return std::vector<engine::Command>{chat_finish(
        input, {{"outcome", "failed"}, {"error", last.name + " failed: " + last.error}})};
  }

  // The latest model turn and how many of its tool calls have run.
  std::size_t turn_index = steps.size();
  while (turn_index > 0 && steps[turn_index - 1]->name != llm_turn_activity) --turn_index;
  if (turn_index == 0) {
    return tl::unexpected(
        Error{ErrorCode::internal, "agent history: tool call before any model turn"});
  }
  const ActivityState& turn = *steps[turn_index - 1];
  const Json calls = turn.result.value("tool_calls", Json::array());
  const std::size_t calls_done = steps.size() - turn_index;
  if (calls.empty()) {
    // llm_turn recorded the end of the run with the final answer, in one transaction.
    return std::vector<engine::Command>{
        engine::CompleteRun{{{"outcome", "completed"},
                             {"message_id", turn.result.value("message_id", "")},
                             {"turns", turns}}}};
  }
  if (calls_done < calls.size())
    return std::vector<engine::Command>{tool_call(input, calls[calls_done])};
  if (turns >= turns_max) {
    return std::vector<engine::Command>{
        chat_finish(input, {{"outcome", "max_turns"}, {"turns", turns}})};
  }
  return std::vector<engine::Command>{llm_turn(input, turns + 1)};
}

void register_agent_workflow(engine::WorkflowRegistry& registry) {
  registry.add(std::make_unique<AgentWorkflow>());
  // What chats run now: the workflow language's engine workflow (builtin://agent by default).
  registry.add(std::make_unique<workflow::EngineWorkflow>());
}

}  // namespace reliant::agent
