// A workflow-language run on the engine, driven the way a worker drives it (shared by the engine
// workflow's unit tests): decide_next over the folded history, activities answered by the test,
// signals and timers appended as the store appends them. Every decision is checked against one
// replayed from the run's start, and deciding again on its result must add nothing.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/engine/run_state.h"
#include "core/workflow/engine_workflow.h"

namespace reliant::workflow::testing {

class EngineRun {
  using EventKind = engine::EventKind;
  using Json = nlohmann::json;

 public:
  explicit EngineRun(const RunRequest& request) {
    append(EventKind::run_started,
           Json{{"workflow", std::string(kEngineWorkflowName)}, {"input", to_json(request)}});
    decide();
  }

  // Runs a decision and checks it is final: deciding again on its result adds nothing. The state
  // keeps its interpreter between decisions, as a worker's sticky cache does; each decision is
  // checked against one replayed from the run's start.
  void decide() {
    const engine::RunState fresh = state_;  // a copy has no memo
    const auto replayed = engine::decide_next(fresh, &workflow_, now_ms_);
    const auto events = engine::decide_next(state_, &workflow_, now_ms_);
    ASSERT_EQ(events.size(), replayed.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
      EXPECT_EQ(events[i].body, replayed[i].body) << "the kept interpreter decided otherwise";
    }
    for (auto& event : events) append_event(event);
    EXPECT_TRUE(engine::decide_next(state_, &workflow_, now_ms_).empty())
        << "a second decision on the same history issued more";
  }

  // The pending activity running the node at `path`, or nullptr.
  const engine::ActivityState* activity(const std::string& path) const {
    for (const auto& [seq, a] : state_.activities) {
      if (a.status == engine::ActivityState::Status::pending && a.input.value("path", "") == path)
        return &a;
    }
    return nullptr;
  }
  std::vector<std::string> pending_paths() const {
    std::vector<std::string> paths;
    for (const auto& [seq, a] : state_.activities) {
      if (a.status == engine::ActivityState::Status::pending) paths.push_back(a.input["path"]);
    }
    return paths;
  }

  void complete(const std::string& path, Json result) {
    const auto* a = activity(path);
    ASSERT_NE(a, nullptr) << "no pending activity for " << path;
    append(
        EventKind::activity_completed,
        Json{{"scheduled_seq", a->scheduled_seq}, {"result", std::move(result)}, {"attempt", 1}});
    decide();
  }
  void fail(const std::string& path, const std::string& error) {
    const auto* a = activity(path);
    ASSERT_NE(a, nullptr) << "no pending activity for " << path;
    append(EventKind::activity_failed,
           Json{{"scheduled_seq", a->scheduled_seq}, {"error", error}, {"attempts", 5}});
    decide();
  }
  void signal(const std::string& name, Json payload) {
    append(EventKind::signal_received, Json{{"name", name}, {"payload", std::move(payload)}});
    decide();
  }
  void cancel(const std::string& reason) {
    append(EventKind::cancel_requested, Json{{"reason", reason}});
    decide();
  }
  void fire_timers() {
    std::vector<std::int64_t> due;
    for (const auto& [seq, timer] : state_.timers) {
      if (!timer.fired) due.push_back(seq);
    }
    for (auto seq : due) append(EventKind::timer_fired, Json{{"started_seq", seq}});
    decide();
  }

  const engine::RunState& state() const { return state_; }
  const std::vector<engine::HistoryEvent>& history() const { return history_; }
  // The terminal event's body.
  Json end() const {
    EXPECT_TRUE(state_.terminal.has_value());
    return history_.back().body;
  }

 private:
  void append(EventKind kind, Json body) {
    append_event(engine::HistoryEvent{state_.last_seq + 1, kind, std::move(body), now_ms_});
  }
  void append_event(const engine::HistoryEvent& event) {
    ASSERT_TRUE(state_.apply(event).has_value());
    history_.push_back(event);
    now_ms_ += 10;
  }

  EngineWorkflow workflow_;
  engine::RunState state_;
  std::vector<engine::HistoryEvent> history_;
  std::int64_t now_ms_ = 1'000;
};

// A run request of the YAML `yaml` for user u1 in project p1.
inline RunRequest source(std::string yaml, nlohmann::json inputs = nlohmann::json::object()) {
  RunRequest request;
  request.source = std::move(yaml);
  request.file = "test.yaml";
  request.inputs = std::move(inputs);
  request.context = nlohmann::json{{"user_id", "u1"}, {"project_id", "p1"}};
  return request;
}

}  // namespace reliant::workflow::testing
