// The invariant workflow_spawns over the sub-agents the spawn tool started
// (services/agent/spawn_tools.h), read from the database at the end of a run:
//   - every spawned_agents row is a child run of its row's parent run, keyed "spawn/<preset>",
//     in its parent's chat, talking on thread "agent:<id>", where its prompt "spawn-<id>" is
//     stored; and no prompt is stored for a sub-agent that has no row;
//   - a spawn ran once: a tool step's result lists (`spawned`) exactly the sub-agents its spawn
//     calls that succeeded started, each named for its call's request id (<run>-<step>-<call>),
//     so a retried step found the one its first attempt started; no two steps list the same
//     one, and every row whose step completed is listed by it — a retry that started a second
//     sub-agent leaves a row no result lists;
//   - no run has more than kSpawnsPerRunMax sub-agents, and they nest at most kSpawnDepthMax
//     deep;
//   - a sub-agent's end reaches its parent at most once;
//   - it ends when its parent ends: no sub-agent still runs 30 s after its parent ended (or
//     after healing, when its parent ended before), and none whose parent ended after healing
//     went on to complete or fail more than 5 s later — its parent's end cancels it.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/time.h"
#include "sim/checker.h"
#include "sim/sim_store.h"

namespace reliant::sim {

// The sub-agents found, by their runs' status ("running", "completed", …), for the report.
using SpawnCounts = std::map<std::string, std::uint64_t>;

SpawnCounts check_spawned_agents(SimDatabase& database, Checker& checker, Instant heal,
                                 Instant end);

}  // namespace reliant::sim
