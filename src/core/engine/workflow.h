// The interpreter interface: a workflow decides, from its run's state, what to do next. The
// workflow language (a later issue) plugs in here, as do the built-in workflows.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/time.h"
#include "core/engine/run_state.h"

namespace reliant::engine {

// The signal the engine sends a parent run when one of its child runs ends (NewRun::parent),
// in the child's closing transaction: payload {key, run_id, status, result, error}, `key` being
// what the parent gave its child, `status` the child's RunStatus name, `result` its result when
// it completed. A parent waits for its child as a durable state, not a held activity.
inline constexpr std::string_view kChildEndedSignal = "child_ended";

struct ActivityOptions {
  std::int32_t attempts_max = 3;
  Duration start_to_close = seconds(60);
  Duration heartbeat_timeout{};  // zero: no heartbeats required
};

// Why an attempt that outlived its start-to-close timeout failed — the same words whether its
// worker's timer noticed first or the reaper did (the attempt's lease lasts exactly that long).
std::string start_to_close_exceeded(Duration limit);

struct ScheduleActivity {
  std::string name;
  Json input;
  ActivityOptions options;
};
struct StartTimer {
  Duration delay{};
  // What the timer is for, when a workflow runs several (the workflow language: the node whose
  // timeout it is); kept in the history and in TimerState.
  std::string tag;
  // Anything else the workflow wants to read back when it fires (the workflow language: the
  // node's type); kept in the history and in TimerState. Null: nothing.
  Json info;
};
struct CompleteRun {
  Json result;
};
struct FailRun {
  std::string error;
};
using Command = std::variant<ScheduleActivity, StartTimer, CompleteRun, FailRun>;

class Workflow {
 public:
  virtual ~Workflow() = default;
  virtual std::string_view name() const = 0;
  // What to do now that `state` is the whole history. Must be a pure, deterministic function of
  // `state` (no clock, no randomness, no I/O): it is re-run whenever the history grows and after
  // crashes, and must return only commands not already reflected in the history. An error fails
  // the run with that error (e.g. invalid input).
  virtual Result<std::vector<Command>> decide(const RunState& state) const = 0;
};

class WorkflowRegistry {
 public:
  void add(std::unique_ptr<Workflow> workflow);
  const Workflow* find(std::string_view name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, std::unique_ptr<Workflow>, std::less<>> workflows_;
};

// The events a workflow task appends: the interpreter's commands as events numbered from
// state.last_seq + 1, with the engine's own rules around them — nothing after a terminal event,
// a requested cancellation ends the run, an unknown workflow or an interpreter error fails it.
std::vector<HistoryEvent> decide_next(const RunState& state, const Workflow* workflow,
                                      std::int64_t now_ms);

}  // namespace reliant::engine
