// RunState: a run's history folded into what an interpreter needs — its input, each activity and
// timer with its outcome, signals in arrival order, cancellation and the terminal outcome.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/engine/history.h"

namespace reliant::engine {

struct ActivityState {
  enum class Status { pending, completed, failed };
  std::int64_t scheduled_seq = 0;
  std::string name;
  Json input;
  Status status = Status::pending;
  Json result;                    // when completed
  std::string error;              // when failed
  std::int64_t resolved_seq = 0;  // the seq of its activity_completed or activity_failed event
};

struct TimerState {
  std::int64_t started_seq = 0;
  std::int64_t fire_at_ms = 0;
  bool fired = false;
  std::int64_t fired_seq = 0;
  std::string tag;  // StartTimer::tag: what the workflow started it for
  Json info;        // StartTimer::info
};

struct Signal {
  std::int64_t seq = 0;
  std::string name;
  Json payload;
};

// What a workflow keeps between decisions of one run on one worker (sticky execution,
// docs/architecture.md §7): the workflow language keeps its interpreter, fed only the answers
// that arrived since. A cache, never the truth: deciding without it gives the same commands.
class WorkflowMemo {
 public:
  virtual ~WorkflowMemo() = default;
};

// Holds a RunState's memo. A copy starts empty, so two states never share (and mutate) one.
class MemoSlot {
 public:
  MemoSlot() = default;
  MemoSlot(const MemoSlot&) {}
  MemoSlot& operator=(const MemoSlot&) {
    memo_.reset();
    return *this;
  }
  MemoSlot(MemoSlot&&) noexcept = default;
  MemoSlot& operator=(MemoSlot&&) noexcept = default;

  WorkflowMemo* get() const { return memo_.get(); }
  void reset(std::unique_ptr<WorkflowMemo> memo = nullptr) { memo_ = std::move(memo); }

 private:
  std::unique_ptr<WorkflowMemo> memo_;
};

struct RunState {
  std::string workflow;
  Json input;
  std::map<std::int64_t, ActivityState> activities;  // by scheduled seq, i.e. in schedule order
  std::map<std::int64_t, TimerState> timers;
  std::vector<Signal> signals;  // in seq order
  // Answers in history order — each activity's answer (its resolved seq → its scheduled seq)
  // and each timer's firing (fired seq → started seq) — so that a decision finds what happened
  // after a seq without reading every activity of a long run.
  std::map<std::int64_t, std::int64_t> activity_answers;
  std::map<std::int64_t, std::int64_t> timer_firings;
  bool cancel_requested = false;
  std::string cancel_reason;  // the first request's, as its caller gave it (may be empty)
  std::optional<EventKind> terminal;
  std::int64_t last_seq = 0;
  // The workflow's cache for this state (mutable: a cache that `decide`, a const view of the
  // state, may fill). Only events appended through `apply` keep it valid.
  mutable MemoSlot memo;

  // Folds a history, checking it: seqs start at 1 without gaps, it starts with run_started,
  // completions answer an activity/timer that exists and is not yet resolved, nothing follows
  // a terminal event. Fails with `internal` (a corrupt history) otherwise.
  static Result<RunState> fold(const std::vector<HistoryEvent>& history);
  // Applies one more event with the same checks.
  Result<void> apply(const HistoryEvent& event);

  // Activities scheduled and not yet answered; O(1).
  std::size_t pending_activities() const { return activities.size() - activity_answers.size(); }
  std::size_t completed_activities() const;
  // The signals received after `seq`, oldest first.
  std::span<const Signal> signals_after(std::int64_t seq) const;
};

}  // namespace reliant::engine
