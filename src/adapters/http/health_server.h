// HealthServer: /health (the process is alive) and /ready (it can do its job) over plain HTTP,
// for load balancers and orchestrators (--health-port, spec S1.3). Runs on the process's
// io_context; each request is answered and the connection closed.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "adapters/asio/asio.h"
#include "base/result.h"

namespace reliant {

// Empty when ready; otherwise why not (shown in the 503 body).
using ReadinessProbe = std::function<std::string()>;

class HealthServer {
 public:
  // Listens on bind_address:port (port 0: any free port). Fails with `unavailable` when the
  // address cannot be bound.
  static Result<std::unique_ptr<HealthServer>> start(boost::asio::io_context& context,
                                                     const std::string& bind_address, int port,
                                                     ReadinessProbe ready);
  ~HealthServer();
  int port() const { return port_; }

 private:
  struct State;
  explicit HealthServer(std::shared_ptr<State> state, int port) : state_(std::move(state)), port_(port) {}
  std::shared_ptr<State> state_;
  int port_;
};

}  // namespace reliant
