// Swarm: component settings drawn per seed, as TigerBeetle's VOPR draws a cluster's configuration
// with its faults — worker concurrency, eager dispatch and decisions, sticky state, gateway
// bounds and TTLs, the daemon's result cache — each within the range the component accepts. The
// settings a scenario file gives stay as it gives them; a run prints what it drew beside its
// faults, so a failing seed says which configuration it ran.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "base/time.h"
#include "sim/scenario.h"

namespace reliant::engine {
struct WorkerConfig;
}
namespace reliant::gateway {
struct GatewayConfig;
}
namespace reliant::daemon {
struct DaemonConfig;
}

namespace reliant::sim {

struct Swarm {
  // Workers (engine, chat and workflow).
  std::optional<std::int64_t> worker_batch;
  std::optional<std::int64_t> worker_max_in_flight;
  std::optional<std::int64_t> eager_activities;
  std::optional<bool> eager_decisions;
  std::optional<std::size_t> sticky_runs;
  std::optional<Duration> store_retry;
  // Gateways.
  std::optional<std::size_t> gateway_in_flight_max;
  std::optional<std::size_t> sync_inboxes_per_request_max;
  std::optional<Duration> forward_timeout;
  // Daemons.
  std::optional<std::size_t> result_cache_entries;

  // "swarm: worker batch=2 in-flight=4 eager=0 eager-decisions=off sticky=1 …", or "" when
  // nothing was drawn.
  std::string describe() const;
  // Overwrites what was drawn; the rest stays the component's default or the scenario's.
  void apply(engine::WorkerConfig& config) const;
  void apply(gateway::GatewayConfig& config) const;
  void apply(daemon::DaemonConfig& config) const;
};

// Nothing when the scenario says `swarm: false`. Drawn from the seed alone (not from the world's
// generator), so drawing it changes no other draw of the run.
Swarm draw_swarm(const Scenario& scenario, std::uint64_t seed);

}  // namespace reliant::sim
