// Sticky execution of the workflow language (docs/architecture.md §7): a worker keeps a run's
// state, with the interpreter told every answer so far, between decisions. On random workflows
// answered in a random order (failures, signals of no one, answers to what no longer waits),
// every decision from the kept state equals the decision replayed from the run's start.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "core/engine/run_state.h"
#include "core/workflow/engine_workflow.h"
#include "property/property_check.h"
#include "property/random_workflow.h"

namespace reliant::workflow {
namespace {

using engine::EventKind;
using Json = nlohmann::json;

std::string dump(const std::vector<engine::HistoryEvent>& events) {
  Json out = Json::array();
  for (const auto& e : events) {
    out.push_back({{"seq", e.seq}, {"kind", to_string(e.kind)}, {"body", e.body}, {"at", e.at_ms}});
  }
  return out.dump();
}

// A run of a random workflow, its history appended to as a worker's store appends it.
struct RandomRun {
  explicit RandomRun(const std::string& on_failure) {
    RunRequest request;
    request.source = random_workflow_yaml();
    request.file = "random.yaml";
    request.inputs = Json{{"k", *rc::gen::inRange(0, 3)}};
    request.on_failure = on_failure;
    append(EventKind::run_started,
           Json{{"workflow", std::string(kEngineWorkflowName)}, {"input", to_json(request)}});
  }
  void append(EventKind kind, Json body) {
    RC_ASSERT(state.apply({state.last_seq + 1, kind, std::move(body), now_ms}).has_value());
    now_ms += 10;
  }
  engine::RunState state;  // kept across decisions, as a worker's cache keeps it
  std::int64_t now_ms = 1'000;
};

TEST(WorkflowStickyProperty, DecisionsFromTheKeptStateEqualDecisionsReplayedFromTheStart) {
  property::check_property(150, [] {
    RandomRun random("");
    const EngineWorkflow workflow;
    engine::RunState& state = random.state;
    std::int64_t& now_ms = random.now_ms;
    const auto append = [&](EventKind kind, Json body) { random.append(kind, std::move(body)); };
    for (int step = 0; !state.terminal; ++step) {
      RC_ASSERT(step < 2'000);
      const engine::RunState fresh = state;  // a copy has no memo: it replays from the start
      const auto kept = engine::decide_next(state, &workflow, now_ms);
      const auto replayed = engine::decide_next(fresh, &workflow, now_ms);
      RC_ASSERT(dump(kept) == dump(replayed));
      for (const auto& e : kept) RC_ASSERT(state.apply(e).has_value());
      if (state.terminal) break;
      std::vector<std::int64_t> pending;
      for (const auto& [seq, a] : state.activities) {
        if (a.status == engine::ActivityState::Status::pending) pending.push_back(seq);
      }
      if (pending.empty()) break;  // decided nothing new and nothing runs: the same as a stall
      // Now and then something that answers nothing the run waits for.
      if (*rc::gen::inRange(0, 10) == 0) {
        append(EventKind::signal_received,
               Json{{"name", std::string(kAnswerSignal)},
                    {"payload", {{"key", "nobody"}, {"output", Json::object()}}}});
      }
      const auto seq = *rc::gen::elementOf(pending);
      if (*rc::gen::inRange(0, 25) == 0) {
        append(EventKind::activity_failed,
               Json{{"scheduled_seq", seq}, {"error", "it broke"}, {"attempts", 3}});
      } else {
        append(EventKind::activity_completed,
               Json{{"scheduled_seq", seq},
                    {"result", {{"v", *rc::gen::inRange(0, 4)}, {"exit_code", 0}}},
                    {"attempt", 1}});
      }
    }
  });
}

// A control request as a history event's body.
Json control_signal(Json request) {
  return Json{{"name", std::string(kRunControlSignal)}, {"payload", std::move(request)}};
}

// Whether a decision starts work: an activity that runs a node, or a timeout's timer. Storing a
// finished node's message and recording the run's end are not new work.
bool starts_work(const engine::HistoryEvent& e) {
  if (e.kind == EventKind::timer_started) return true;
  if (e.kind != EventKind::activity_scheduled) return false;
  const std::string key = e.body.value("input", Json::object()).value("key", "");
  return !key.starts_with(kSaveMessageKeyPrefix) && key != "run:finish";
}

// Random control requests among the answers — pause, resume, set an input, and retry, skip or
// fail the steps held when the run pauses on failures — keep the sticky state equal to a replay,
// and a paused run (by its user, or holding a failed step) starts nothing.
TEST(WorkflowStickyProperty, ControlledRunsReplayAlikeAndStartNothingWhilePaused) {
  property::check_property(150, [] {
    RandomRun random(*rc::gen::element<std::string>("pause", "fail", ""));
    const EngineWorkflow workflow;
    engine::RunState& state = random.state;
    std::int64_t& now_ms = random.now_ms;
    const auto append = [&](EventKind kind, Json body) { random.append(kind, std::move(body)); };
    for (int step = 0; !state.terminal; ++step) {
      RC_ASSERT(step < 3'000);
      const auto control = control_state(state);
      RC_ASSERT(control.has_value());
      const engine::RunState fresh = state;
      const auto kept = engine::decide_next(state, &workflow, now_ms);
      const auto replayed = engine::decide_next(fresh, &workflow, now_ms);
      RC_ASSERT(dump(kept) == dump(replayed));
      if ((*control)["paused"].get<bool>()) {
        for (const auto& e : kept) RC_ASSERT(!starts_work(e));
      }
      for (const auto& e : kept) RC_ASSERT(state.apply(e).has_value());
      if (state.terminal) break;
      std::vector<std::int64_t> pending;
      for (const auto& [seq, a] : state.activities) {
        if (a.status == engine::ActivityState::Status::pending) pending.push_back(seq);
      }
      const auto now = control_state(state);
      RC_ASSERT(now.has_value());
      const Json& held = (*now)["held"];
      const int dice = *rc::gen::inRange(0, 12);
      if (!held.empty() && (pending.empty() || dice < 3)) {
        const std::string key = held[0].value("key", "");
        const std::string action = *rc::gen::element<std::string>("retry", "skip", "fail");
        Json asked{{"action", action}, {"key", key}};
        if (action == "skip") asked["output"] = Json{{"v", 1}, {"exit_code", 0}};
        append(EventKind::signal_received, control_signal(std::move(asked)));
        continue;
      }
      if ((*now)["paused_by_user"].get<bool>() && (pending.empty() || dice < 4)) {
        append(EventKind::signal_received, control_signal(Json{{"action", "resume"}}));
        continue;
      }
      if (dice == 4) {
        append(EventKind::signal_received, control_signal(Json{{"action", "pause"}}));
        continue;
      }
      if (dice == 5) {
        append(EventKind::signal_received,
               control_signal(Json{
                   {"action", "set_input"}, {"name", "k"}, {"value", *rc::gen::inRange(0, 3)}}));
        continue;
      }
      if (pending.empty()) break;  // nothing runs and nothing is held: a stall either way
      const auto seq = *rc::gen::elementOf(pending);
      if (*rc::gen::inRange(0, 6) == 0) {
        append(EventKind::activity_failed,
               Json{{"scheduled_seq", seq}, {"error", "it broke"}, {"attempts", 3}});
      } else {
        append(EventKind::activity_completed,
               Json{{"scheduled_seq", seq},
                    {"result", {{"v", *rc::gen::inRange(0, 4)}, {"exit_code", 0}}},
                    {"attempt", 1}});
      }
    }
  });
}

}  // namespace
}  // namespace reliant::workflow
