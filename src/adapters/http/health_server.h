// HealthServer: /health (the process is alive) and /ready (it can do its job) over plain HTTP,
// for load balancers and orchestrators (--health-port, spec S1.3). An HttpServer with a handler
// of its own, so the port has the same read deadlines and connection caps as the API's.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/http/http_server.h"
#include "base/result.h"

namespace reliant {

// Empty when ready; otherwise why not (shown in the 503 body).
using ReadinessProbe = std::function<std::string()>;

class HealthServer {
 public:
  // Listens on bind_address:port (port 0: any free port) and answers on `executor`, which must
  // outlive the server. Fails with `invalid_argument` when the address is not an IP address and
  // `unavailable` when it cannot be bound. Call start() and the destructor on the executor's
  // thread, or while it is not running.
  static Result<std::unique_ptr<HealthServer>> start(AsioExecutor& executor,
                                                     const std::string& bind_address, int port,
                                                     ReadinessProbe ready);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;

  int port() const { return http_->port(); }

 private:
  class Handler;
  explicit HealthServer(std::unique_ptr<Handler> handler);
  std::unique_ptr<Handler> handler_;
  std::unique_ptr<HttpServer> http_;  // last: stops first, while the handler still exists
};

}  // namespace reliant
