// FaultMix: the faults one seed draws from a scenario's ranges, plus its scripted plan.
// Every run prints its mix, so a failing seed says what it was up against.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "runtime/random.h"
#include "sim/network.h"
#include "sim/scenario.h"
#include "sim/sim_host.h"
#include "sim/sim_llm.h"
#include "sim/sim_store.h"

namespace reliant::sim {

struct FaultMix {
  BusFaults bus;                      // active from the start until heal_at
  StreamFaults streams;               // idem
  StoreFaults store;                  // idem (engine scenarios)
  LlmFaults llm;                      // idem (chat workers)
  HostFaults host;                    // idem (the daemons' machines)
  std::vector<ScriptedFault> events;  // drawn and scripted, by time
  std::vector<std::pair<std::string, Duration>> clock_offsets;  // per node, topology order
  std::vector<double> clock_drifts;  // per node, topology order; until heal_at

  // "bus drop=1.2% dup=0.3% delay=2.0% reorder=0.0% | crash server-1@12.3s(+4.1s) | …"
  std::string describe() const;
};

FaultMix draw_fault_mix(const Scenario& scenario, Random& random);

// The fault types `scenario` can fire, by their coverage names: a range whose maximum is above
// zero, or a scripted fault of that kind ("fault.process.crash", "fault.store.outage", …). Store
// faults count only where the scenario has a database.
std::set<std::string> declared_faults(const Scenario& scenario);

}  // namespace reliant::sim
