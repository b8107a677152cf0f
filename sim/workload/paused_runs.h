// The invariant paused_runs_start_nothing over the users' control of their runs
// (core/workflow/run_control.h), read from every workflow run's history at the end of a run —
// an independent reading of the history, not the engine's RunControl again:
//   - between a run_control pause and the next resume, and while a step that failed under
//     `on_failure: pause` (the node's, else the run's start's, else its workflow's) waits for its
//     retry, skip or fail (or a resume), the run schedules no node's activity (the `save:` of a
//     message and the run's `run:finish`, which record what already ran, excepted) and starts
//     no timer;
//   - every control signal recorded applied when it was recorded (the api checks each against
//     the run before it signals it): a pause of a run its user had not paused, a resume of a
//     paused run, a retry, skip or fail of a held step;
//   - a held step's retry — one per retry signal, one per held step a resume releases — is
//     scheduled at most once, after its signal, with the signal's args over the step's; a run
//     that completed scheduled every retry asked of it (one still running that should have
//     moved on is workflow_runs_end's);
//   - a run still running and paused at the end was left so by its client (paused and never
//     resumed, or with a step it chose to leave held), or is below such a run, or started too
//     late to be held to ending; a run its client left paused is still paused by its user at the
//     end, unless it ended.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/time.h"
#include "sim/checker.h"
#include "sim/sim_store.h"
#include "sim/workload/workflow_client.h"

namespace reliant::sim {

// What the histories hold of run control, for the report: signals by action, steps held,
// retries scheduled, runs left paused or holding at the end.
using ControlCounts = std::map<std::string, std::uint64_t>;

ControlCounts check_paused_runs(const std::vector<std::unique_ptr<WorkflowClientBook>>& books,
                                SimDatabase& database, Checker& checker, Instant heal, Instant end);

}  // namespace reliant::sim
