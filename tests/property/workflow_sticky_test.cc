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

TEST(WorkflowStickyProperty, DecisionsFromTheKeptStateEqualDecisionsReplayedFromTheStart) {
  property::check_property(150, [] {
    RunRequest request;
    request.source = random_workflow_yaml();
    request.file = "random.yaml";
    request.inputs = Json{{"k", *rc::gen::inRange(0, 3)}};
    const EngineWorkflow workflow;
    engine::RunState state;  // kept across decisions, as a worker's cache keeps it
    std::int64_t now_ms = 1'000;
    const auto append = [&](EventKind kind, Json body) {
      RC_ASSERT(state.apply({state.last_seq + 1, kind, std::move(body), now_ms}).has_value());
      now_ms += 10;
    };
    append(EventKind::run_started,
           Json{{"workflow", std::string(kEngineWorkflowName)}, {"input", to_json(request)}});
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

}  // namespace
}  // namespace reliant::workflow
