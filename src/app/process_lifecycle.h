// What every long-running command shares: stopping cleanly on SIGINT/SIGTERM, and the health
// endpoint whose /ready checks the store and, when the process uses it, NATS (spec S1.3).
#pragma once

#include <memory>
#include <string>

#include "adapters/asio/asio.h"
#include "adapters/asio/asio_executor.h"
#include "adapters/http/health_server.h"
#include "adapters/nats/nats_bus.h"
#include "runtime/scope.h"
#include "runtime/store.h"

namespace reliant {

// Stops `executor` (run() returns) on the first SIGINT or SIGTERM while it lives.
class StopOnSignals {
 public:
  explicit StopOnSignals(AsioExecutor& executor);

 private:
  boost::asio::signal_set signals_;
};

// /health and /ready on bind_address:port; ready once the store answers and `nats` (if any) is
// connected.
class ServerHealth {
 public:
  static Result<std::unique_ptr<ServerHealth>> start(AsioExecutor& executor, Store& store,
                                                     const NatsBus* nats,
                                                     const std::string& bind_address, int port);
  int port() const { return server_->port(); }

 private:
  explicit ServerHealth(AsioExecutor& executor) : probes_(executor) {}
  std::string store_status_ = "starting";
  std::unique_ptr<HealthServer> server_;
  Scope probes_;  // last: its probe writes store_status_
};

}  // namespace reliant
