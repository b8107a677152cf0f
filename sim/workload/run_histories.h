// The workflow-language invariants over every workflow run's history, read from the database at
// the end of a run (the chat workload checks them):
//   workflow_nodes_once   each node (an activity key, one per loop iteration, one per retry of a
//                         held step) is scheduled at most once;
//   approvals_signalled   in manual mode, no tools run before a person's approval of that turn
//                         arrived as a signal;
//   workflow_runs_family  child runs nest at most kChildRunDepthMax deep, and none outlives its
//                         parent.
#pragma once

#include "base/time.h"
#include "sim/checker.h"
#include "sim/sim_store.h"

namespace reliant::sim {

void check_run_families(SimDatabase& database, Checker& checker, Instant heal, Instant end);
void check_workflow_runs(SimDatabase& database, Checker& checker, Instant end);

}  // namespace reliant::sim
