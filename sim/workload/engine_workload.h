// The engine workload as the runner sees it: engine_worker and engine_client nodes, their
// counters across crashes, the end-of-run check of the database (check_engine) and the engine
// table of the report.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sim/checker.h"
#include "sim/sim_store.h"
#include "sim/swarm.h"
#include "sim/workload/engine.h"
#include "sim/workload/workload.h"

namespace reliant::sim {

class EngineWorkload final : public Workload {
 public:
  EngineWorkload(const Scenario& scenario, SimDatabase& database, Checker& checker,
                 const Swarm& swarm);

  static constexpr std::array<std::string_view, 2> kRoles = {"engine_worker", "engine_client"};
  std::span<const std::string_view> roles() const override { return kRoles; }
  ComponentFactory factory(const NodeGroup& group, const std::string& name) override;
  void finish(Instant end) override;
  void summarize(RunReport& report) const override;

 private:
  struct Node {
    std::string role;
    engine::WorkerStats worker_total;  // of crashed incarnations
    std::weak_ptr<SimWorker> worker;   // the live incarnation's, if any
    EngineClientStats client;
    std::int64_t runs_expected = 0;
  };

  const Scenario& scenario_;
  SimDatabase& database_;
  Checker& checker_;
  Swarm swarm_;
  const EngineRegistries registries_;
  // By name: a map's nodes stay put, so components may hold on to their counters.
  std::map<std::string, Node> nodes_;
  std::vector<std::string> clients_;  // in topology order
  EngineSummary summary_;
};

}  // namespace reliant::sim
