// Drawing a seed's component settings, and applying them to the components' configs.
#include "sim/swarm.h"

#include <array>

#include "runtime/random.h"
#include "services/daemon/daemon.h"
#include "services/gateway/gateway.h"
#include "services/worker/worker.h"

namespace reliant::sim {
namespace {

template <class T, std::size_t N>
T pick(Random& random, const std::array<T, N>& choices) {
  return choices[random.below(N)];
}

std::string on_off(bool value) { return value ? "on" : "off"; }

}  // namespace

Swarm draw_swarm(const Scenario& scenario, std::uint64_t seed) {
  Swarm swarm;
  if (!scenario.swarm) return swarm;
  Random random(seed ^ 0x737761726d5f7631ull);  // "swarm_v1"
  // Small values make the rare paths common: one task at a time, no eager dispatch, no kept
  // state; the defaults stay among the choices.
  swarm.worker_batch = pick<std::int64_t>(random, std::array<std::int64_t, 4>{1, 2, 8, 16});
  swarm.worker_max_in_flight =
      pick<std::int64_t>(random, std::array<std::int64_t, 4>{1, 4, 16, 64});
  swarm.eager_activities = pick<std::int64_t>(random, std::array<std::int64_t, 3>{0, 1, 8});
  swarm.eager_decisions = random.chance(0.5);
  swarm.sticky_runs = pick<std::size_t>(random, std::array<std::size_t, 3>{0, 2, 256});
  swarm.store_retry = random.between(milliseconds(50), seconds(1));
  swarm.gateway_in_flight_max =
      pick<std::size_t>(random, std::array<std::size_t, 3>{4, 64, 100'000});
  swarm.sync_inboxes_per_request_max =
      pick<std::size_t>(random, std::array<std::size_t, 3>{1, 4, 16});
  swarm.forward_timeout = random.between(milliseconds(500), seconds(5));
  swarm.result_cache_entries = pick<std::size_t>(random, std::array<std::size_t, 3>{64, 512, 4096});
  return swarm;
}

std::string Swarm::describe() const {
  if (!worker_batch) return "";
  return "swarm: worker batch=" + std::to_string(*worker_batch) +
         " in-flight=" + std::to_string(*worker_max_in_flight) +
         " eager=" + std::to_string(*eager_activities) +
         " eager-decisions=" + on_off(*eager_decisions) +
         " sticky=" + std::to_string(*sticky_runs) +
         " store-retry=" + format_duration(*store_retry) +
         "; gateway in-flight=" + std::to_string(*gateway_in_flight_max) +
         " sync-inboxes=" + std::to_string(*sync_inboxes_per_request_max) +
         " forward-timeout=" + format_duration(*forward_timeout) +
         "; daemon result-cache=" + std::to_string(*result_cache_entries);
}

void Swarm::apply(engine::WorkerConfig& config) const {
  if (worker_batch) config.batch = *worker_batch;
  if (worker_max_in_flight) config.in_flight_max = *worker_max_in_flight;
  if (eager_activities) config.eager_activities = *eager_activities;
  if (eager_decisions) config.eager_decisions = *eager_decisions;
  if (sticky_runs) config.sticky_runs = *sticky_runs;
  if (store_retry) config.store_retry = *store_retry;
}

void Swarm::apply(gateway::GatewayConfig& config) const {
  if (gateway_in_flight_max) config.in_flight_max = *gateway_in_flight_max;
  if (sync_inboxes_per_request_max)
    config.sync_inboxes_per_request_max = *sync_inboxes_per_request_max;
  if (forward_timeout) config.forward_timeout = *forward_timeout;
}

void Swarm::apply(daemon::DaemonConfig& config) const {
  if (result_cache_entries) config.result_cache_entries = *result_cache_entries;
}

}  // namespace reliant::sim
