// The one list of simulation workloads (see workloads.h).
#include "sim/workload/workloads.h"

#include <span>
#include <string_view>

#include "base/assert.h"
#include "sim/workload/chat.h"
#include "sim/workload/echo_workload.h"
#include "sim/workload/engine_workload.h"
#include "sim/workload/tools.h"

namespace reliant::sim {
namespace {

bool has_any_role(const Scenario& scenario, std::span<const std::string_view> roles) {
  for (std::string_view role : roles) {
    if (scenario.has_role(role)) return true;
  }
  return false;
}

}  // namespace

std::vector<std::unique_ptr<Workload>> make_workloads(const WorkloadContext& context) {
  const Scenario& scenario = context.scenario;
  std::vector<std::unique_ptr<Workload>> workloads;
  if (has_any_role(scenario, EchoWorkload::kRoles)) {
    workloads.push_back(std::make_unique<EchoWorkload>(scenario, context.checker));
  }
  if (has_any_role(scenario, EngineWorkload::kRoles)) {
    RELIANT_ASSERT(context.database != nullptr);
    workloads.push_back(std::make_unique<EngineWorkload>(scenario, *context.database,
                                                         context.checker, context.swarm));
  }
  // The chat workload's users are the tool path's: it seeds after it.
  if (has_any_role(scenario, ToolPathWorkload::kRoles)) {
    RELIANT_ASSERT(context.database != nullptr);
    workloads.push_back(std::make_unique<ToolPathWorkload>(
        context.world, scenario, *context.database, context.streams, context.checker, context.swarm,
        context.host_faults));
  }
  if (has_any_role(scenario, ChatWorkload::kRoles)) {
    RELIANT_ASSERT(context.database != nullptr);
    workloads.push_back(std::make_unique<ChatWorkload>(
        context.world, scenario, *context.database, context.checker, context.swarm, context.model));
  }
  return workloads;
}

}  // namespace reliant::sim
