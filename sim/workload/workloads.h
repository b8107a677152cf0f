// The one list of simulation workloads: which of them a scenario's roles call for, built with
// what the runner shares with them. Adding a workload is a folder entry and a line in
// workloads.cc.
#pragma once

#include <memory>
#include <vector>

#include "sim/checker.h"
#include "sim/scenario.h"
#include "sim/sim_host.h"
#include "sim/sim_llm.h"
#include "sim/sim_store.h"
#include "sim/sim_transport.h"
#include "sim/swarm.h"
#include "sim/workload/workload.h"
#include "sim/world.h"

namespace reliant::sim {

struct WorkloadContext {
  World& world;
  const Scenario& scenario;
  SimDatabase* database;  // null when no role needs one
  SimStreams& streams;
  Checker& checker;
  const Swarm& swarm;
  SimModel& model;             // the model provider chat workers call
  SimHostFaults& host_faults;  // the daemons' machines' faults
};

// In the order they seed, finish and report. Every role of the scenario is built by exactly one.
std::vector<std::unique_ptr<Workload>> make_workloads(const WorkloadContext& context);

}  // namespace reliant::sim
