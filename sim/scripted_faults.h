// The faults a seed's plan schedules (ScriptedFault), one row each: the key a scenario's plan
// names it by, what it names (nothing, a node, a daemon's node, or two nodes), whether it takes
// a length, its coverage counter, how a seed's mix shows it, and what it does to the world.
// read_plan, the shrinker's plan, declared_faults, FaultMix::describe and the runner all read
// these rows. A new scripted fault is its Kind, its row here, and, when seeds should draw it,
// its range in FaultRanges and its draw in draw_fault_mix (where the order of the draws is part
// of every seed's meaning: add new draws last).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sim/network.h"
#include "sim/process.h"
#include "sim/scenario.h"
#include "sim/sim_store.h"
#include "sim/sim_transport.h"
#include "sim/world.h"

namespace reliant::sim {

// What a fault acts on while a scenario runs.
struct FaultTargets {
  World& world;
  Network& network;
  SimStreams& streams;
  SimDatabase* database;  // null without one
  const std::map<std::string, SimProcess*>& processes;
  Instant heal;  // every fault's effect ends by then
};

struct ScriptedFaultRow {
  enum class Names { nothing, node, daemon, gateway, two_nodes };
  // restart: crash's and drain's restart_after (5 s)
  enum class Length { none, required, restart };

  ScriptedFault::Kind kind;
  std::string_view key;  // in a plan: `crash: server-1`, `store_outage: true`, …
  Names names;
  Length length;
  bool positive_length;      // a clock step: how far, never zero or back
  std::string_view counter;  // coverage: "fault.process.crash", …
  bool needs_database;       // counts (and acts) only where the scenario has one
  std::string (*describe)(const ScriptedFault& fault);  // "crash server-1@12s (restart +4s)"
  // False when it did nothing (a crash of a process already down, a store fault without a
  // database): the workloads then do not hear of it either.
  bool (*inject)(FaultTargets& targets, const ScriptedFault& fault);
};

// One row per Kind, in the enum's order.
const std::vector<ScriptedFaultRow>& scripted_faults();
const ScriptedFaultRow& scripted_fault(ScriptedFault::Kind kind);

}  // namespace reliant::sim
