// The debug server (--pprof-port, spec S1.3): Prometheus-format metrics on /metrics and the
// database write queue on /debug/db. It binds 127.0.0.1 only: operators reach it from the host.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/http/http_server.h"
#include "runtime/http.h"
#include "runtime/store.h"

namespace reliant {

// Appends metric lines ("name value\n", with # HELP/# TYPE) for one component.
using MetricsWriter = std::function<void(std::string& out)>;

class DebugServer final : public HttpHandler {
 public:
  // Serves on 127.0.0.1:port (0: any free port).
  static Result<std::unique_ptr<DebugServer>> start(AsioExecutor& executor, int port, Store& store,
                                                    std::string driver, MetricsWriter metrics);
  Task<HttpResponse> handle(HttpRequest request) override;
  int port() const { return http_->port(); }

 private:
  DebugServer(AsioExecutor& executor, Store& store, std::string driver, MetricsWriter metrics);
  AsioExecutor& executor_;
  Store& store_;
  std::string driver_;
  MetricsWriter metrics_;
  SteadyInstant started_;
  std::unique_ptr<HttpServer> http_;  // last: stops first
};

// One metric in the Prometheus text format.
void write_metric(std::string& out, const std::string& name, const std::string& type,
                  const std::string& help, double value);

}  // namespace reliant
