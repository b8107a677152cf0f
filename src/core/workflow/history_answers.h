// How the engine workflow (engine_workflow.h) reads a run's history: which activity answers
// which node, what a child run's end or a fired timeout answers, and everything that arrived
// after a point, in arrival order — the answers the interpreter is told and what reaches the
// run's inbox (agent_inbox.h). Internal to the engine workflow and its views of a run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/run_state.h"
#include "core/workflow/agent_inbox.h"
#include "core/workflow/interpreter.h"
#include "core/workflow/run_control.h"

namespace reliant::workflow {

// The step that records a chat's run's end on the chat (its status, an error message).
inline constexpr std::string_view kFinishKey = "run:finish";

// The node an activity runs, by its key; nullopt for an activity that answers no node (a
// `save_message:`, keyed "save:" + its node's key).
std::optional<std::string> node_key(const engine::ActivityState& activity);

// The answer a fired timeout gives its node: an approval ends with status "timeout" (no edge on
// approved or denied is taken), a question fails.
inline constexpr const char* kNoAnswer = "no answer within its timeout";
bool times_out_as_status(const nlohmann::json& timer_info);
const nlohmann::json& timed_out_approval();

// An answer to a pending action, from the history: what the interpreter is told, and when. Or,
// with `inbox`, something for the run's inbox at that point instead; or, with `control`, a
// user's control request (run_control.h).
struct Answer {
  Answer(std::int64_t at, NodeResult answer) : seq(at), result(std::move(answer)) {}
  Answer(std::int64_t at, InboxEvent event) : seq(at), inbox(std::move(event)) {}
  Answer(std::int64_t at, ControlRequest request) : seq(at), control(std::move(request)) {}
  std::int64_t seq = 0;
  NodeResult result;
  std::optional<InboxEvent> inbox;
  std::optional<ControlRequest> control;
  bool from_activity = false;  // an activity's answer: its failure may be held for the user
};

// Whether an activity's success only says that its node's child run started: the node waits on.
bool started_a_child(const engine::ActivityState& activity);
// A child run's end (engine::kChildEndedSignal) as the answer to the node that started it.
std::optional<Answer> child_answer(const engine::Signal& signal);
// The answers that arrived after history seq `after_seq`, in arrival order (a tools node's
// spawns just before its own answer, which shares their seq).
std::vector<Answer> answers_in_order(const engine::RunState& state, std::int64_t after_seq);

}  // namespace reliant::workflow
