// The invariant tool_placement: every command a workflow run ran, on whatever daemon, ran on one
// its nearest selector matches — the node's own `daemon:`, else an enclosing node's, else its
// workflow's, else (for a child run) the selector of the node that started it, recursively.
// The selector is worked out from the workflows' YAML here, not read from what the engine
// evaluated, so that an engine that drops a selector (a child run that forgets its parent
// node's) is caught rather than trusted. CEL selectors are left to workflow_node_daemons.
#pragma once

#include "base/time.h"
#include "sim/checker.h"
#include "sim/sim_store.h"

namespace reliant::sim {

void check_tool_placement(SimDatabase& database, Checker& checker, Instant end);

}  // namespace reliant::sim
