// The trigger invariants, read from the database at the end of a run against what the trigger
// clients made (trigger_client.h). Schedules are read from their stored specs and their instants
// computed here by arithmetic — an interval's anchor + k·interval, a UTC cron of the form
// "*/N * * * *" every N minutes — not by the scheduler's own code:
//   firing_once       each (trigger, scheduled instant) has at most one firing row and at most
//                     one run started for it (the runs whose input's context names a firing of
//                     it), every instant fired is one of its schedule's, every run a trigger
//                     started is its firing's; and once the system is healthy, every instant that
//                     fell due while its trigger was enabled — from healing, or from the client's
//                     last change to it, plus a margin and the most the nodes' clocks can be
//                     ahead (healing undoes no clock step) — has exactly one firing;
//   catch_up_bounded  no firing is for an instant older than its schedule's catch-up window at
//                     the time it was recorded; under catch_up none and one, a plan (a
//                     trigger's firings recorded at one time) fires at most one instant, the
//                     latest due then; under all, at most kCatchUpFiringsMax.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/time.h"
#include "sim/checker.h"
#include "sim/scenario.h"
#include "sim/sim_store.h"
#include "sim/workload/trigger_client.h"

namespace reliant::sim {

// The firings found, by status ("launched", "skipped", …, and "missed summaries"), for the report.
using FiringCounts = std::map<std::string, std::uint64_t>;

// `scenario` bounds the clocks' errors once healed (its clock faults are never undone).
FiringCounts check_triggers(const std::vector<std::unique_ptr<TriggerClientBook>>& books,
                            const Scenario& scenario, SimDatabase& database, Checker& checker,
                            Instant heal, Instant end);

}  // namespace reliant::sim
