// Reading a run's history for the engine workflow (history_answers.h).
#include "core/workflow/history_answers.h"

#include <algorithm>

#include "base/assert.h"
#include "core/cel/value.h"
#include "core/engine/workflow.h"
#include "core/workflow/engine_workflow.h"

namespace reliant::workflow {

using Json = nlohmann::json;

// The node an activity runs, by its key; nullopt for an activity that answers no node (a
// `save_message:`, keyed "save:" + its node's key).
std::optional<std::string> node_key(const engine::ActivityState& activity) {
  std::string key = activity.input.value("key", "");
  if (key.empty() || key.starts_with(kSaveMessageKeyPrefix) || key == kFinishKey)
    return std::nullopt;
  return key;
}

bool times_out_as_status(const Json& timer_info) {
  return timer_info.is_object() && timer_info.value("node_type", "") == "approval";
}
const Json& timed_out_approval() {
  static const Json output = {{"status", "timeout"}, {"message", ""}};
  return output;
}

// Whether an activity's success only says that its node's child run started: the node waits on.
bool started_a_child(const engine::ActivityState& activity) {
  return activity.status == engine::ActivityState::Status::completed &&
         activity.result.is_object() && activity.result.contains(std::string(kChildRunStartedKey));
}

// A child run's end (engine::kChildEndedSignal) as the answer to the node that started it.
std::optional<Answer> child_answer(const engine::Signal& signal) {
  const Json& payload = signal.payload;
  if (!payload.is_object()) return std::nullopt;
  const auto key = payload.find("key");
  const auto run_id = payload.find("run_id");
  if (key == payload.end() || !key->is_string() || run_id == payload.end() ||
      !run_id->is_string()) {
    return std::nullopt;
  }
  const std::string child = run_id->get<std::string>();
  const std::string status = payload.value("status", Json()).is_string()
                                 ? payload["status"].get<std::string>()
                                 : std::string("?");
  if (status == "completed") {
    return Answer{signal.seq,
                  NodeResult{key->get<std::string>(),
                             cel::from_json(child_outputs(payload.value("result", Json()), child)),
                             std::nullopt}};
  }
  const std::string error =
      payload.value("error", Json()).is_string() ? payload["error"].get<std::string>() : "";
  return Answer{signal.seq, NodeResult{key->get<std::string>(), cel::Value(nullptr),
                                       "child run " + child + " " + status + ": " + error}};
}

// The answers that arrived after history seq `after_seq`, in arrival order.
std::vector<Answer> answers_in_order(const engine::RunState& state, std::int64_t after_seq) {
  std::vector<Answer> answers;
  // The state's indexes of answers by seq: only what arrived since, not every activity.
  for (auto it = state.activity_answers.upper_bound(after_seq); it != state.activity_answers.end();
       ++it) {
    const engine::ActivityState& activity = state.activities.at(it->second);
    RELIANT_ASSERT(activity.resolved_seq == it->first);
    auto key = node_key(activity);
    if (!key) continue;                       // not a node: nothing waits for it
    if (started_a_child(activity)) continue;  // its node waits for the child's end
    NodeResult result{*key, cel::Value(nullptr), std::nullopt};
    if (activity.status == engine::ActivityState::Status::completed) {
      // The sub-agents its tool calls spawned are running before its node is answered.
      for (auto& start : spawn_starts(activity.result))
        answers.push_back(Answer{activity.resolved_seq, std::move(start)});
      result.output = cel::from_json(activity.result);
    } else {
      result.error = activity.error;
    }
    answers.push_back(Answer{activity.resolved_seq, std::move(result)});
    answers.back().from_activity = true;
  }
  for (const auto& signal : state.signals_after(after_seq)) {
    if (signal.name == engine::kChildEndedSignal) {
      if (auto end = spawn_end(signal.payload)) {
        answers.push_back(Answer{signal.seq, std::move(*end)});
      } else if (auto answer = child_answer(signal)) {
        answers.push_back(std::move(*answer));
      }
      continue;
    }
    if (signal.name == kAgentMessageSignal) {
      if (auto message = agent_message(signal.payload))
        answers.push_back(Answer{signal.seq, std::move(*message)});
      continue;
    }
    if (signal.name == kRunControlSignal) {
      // A malformed request (the API checks them) changes nothing.
      if (auto request = control_request_from_json(signal.payload))
        answers.push_back(Answer{signal.seq, std::move(*request)});
      continue;
    }
    if (signal.name != kAnswerSignal || !signal.payload.is_object()) continue;
    const std::string key = signal.payload.value("key", "");
    if (key.empty()) continue;
    answers.push_back(Answer{
        signal.seq, NodeResult{key, cel::from_json(signal.payload.value("output", Json::object())),
                               std::nullopt}});
  }
  for (auto it = state.timer_firings.upper_bound(after_seq); it != state.timer_firings.end();
       ++it) {
    const engine::TimerState& timer = state.timers.at(it->second);
    if (timer.tag.empty()) continue;
    answers.push_back(
        times_out_as_status(timer.info)
            ? Answer{timer.fired_seq,
                     NodeResult{timer.tag, cel::from_json(timed_out_approval()), std::nullopt}}
            : Answer{timer.fired_seq, NodeResult{timer.tag, cel::Value(nullptr), kNoAnswer}});
  }
  // Stable: a tools node's spawns come before its answer, which shares their seq.
  std::stable_sort(answers.begin(), answers.end(),
                   [](const Answer& a, const Answer& b) { return a.seq < b.seq; });
  return answers;
}

}  // namespace reliant::workflow
