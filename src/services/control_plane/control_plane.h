// ControlPlane: keeps managed daemons connected (spec S0.12). A managed daemon does not dial a
// gateway; it listens, and a gateway dials it when asked. Every `interval` the control plane
// reads the rows of the daemons it manages, in one transaction, and for each one not recorded
// active it asks the gateways (bus subject gateway.connect, a ManagedConnect) to dial it at its
// address; the first gateway to reach it holds it. Which daemons it manages and where they listen
// is its caller's to say (today the simulator's fleet; a later issue gives it a table and a
// binary of its own).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runtime/env.h"
#include "runtime/scope.h"

namespace reliant::control_plane {

struct ManagedDaemon {
  std::string daemon_id;
  std::string user_id;
  std::string address;  // host:port the daemon listens on for a gateway
};

struct ControlPlaneConfig {
  Duration interval = seconds(2);  // between checks
};

struct ControlPlaneStats {
  std::uint64_t checks = 0;           // rounds that read the rows
  std::uint64_t dials_requested = 0;  // ManagedConnect commands published
  std::uint64_t store_failures = 0;   // rounds the store could not answer (tried next round)
};

class ControlPlane {
 public:
  // `fleet` is asked each round, so that daemons come and go without a restart.
  using Fleet = std::function<std::vector<ManagedDaemon>()>;
  ControlPlane(Env& env, Fleet fleet, ControlPlaneConfig config = {});
  const ControlPlaneStats& stats() const { return stats_; }

 private:
  Task<void> loop();
  Task<void> check();

  Env& env_;
  Fleet fleet_;
  ControlPlaneConfig config_;
  ControlPlaneStats stats_;
  Scope scope_;  // last: destroyed first
};

}  // namespace reliant::control_plane
