// Where a workflow run that never ended is stuck, for an invariant's report: its open tasks and
// last events, and the same for each child run it still waits on, down its family.
#pragma once

#include <string>

#include "sim/sim_store.h"

namespace reliant::sim {

// "; task … ; event … ; child <id> running: …", or a sentence saying why it could not be read.
std::string where_stuck(SimDatabase& database, const std::string& run_id);

}  // namespace reliant::sim
