// Three answers (200, 503, 404, and 405 for anything but GET) on the HTTP server.
#include "adapters/http/health_server.h"

#include <utility>

#include <nlohmann/json.hpp>

namespace reliant {

class HealthServer::Handler final : public HttpHandler {
 public:
  explicit Handler(ReadinessProbe ready) : ready_(std::move(ready)) {}

  Task<HttpResponse> handle(HttpRequest request) override {
    HttpResponse response;
    if (request.method != "GET") {
      response.status = 405;
      response.body = R"({"error":"use GET"})";
    } else if (request.path == "/health") {
      response.body = R"({"status":"ok"})";
    } else if (request.path == "/ready") {
      const std::string why = ready_();
      if (why.empty()) {
        response.body = R"({"status":"ready"})";
      } else {
        response.status = 503;
        response.body = nlohmann::ordered_json{{"status", "not ready"}, {"reason", why}}.dump(
            -1, ' ', false, nlohmann::json::error_handler_t::replace);
      }
    } else {
      response.status = 404;
      response.body = R"({"error":"not found: use /health or /ready"})";
    }
    co_return response;
  }

 private:
  ReadinessProbe ready_;
};

HealthServer::HealthServer(std::unique_ptr<Handler> handler) : handler_(std::move(handler)) {}

HealthServer::~HealthServer() = default;

Result<std::unique_ptr<HealthServer>> HealthServer::start(AsioExecutor& executor,
                                                          const std::string& bind_address, int port,
                                                          ReadinessProbe ready) {
  std::unique_ptr<HealthServer> server(
      new HealthServer(std::make_unique<Handler>(std::move(ready))));
  HttpServerOptions options;
  options.bind_address = bind_address;
  options.port = port;
  auto http = HttpServer::start(executor, std::move(options), *server->handler_);
  if (!http) {
    return fail(http.error().code, "health checks: " + http.error().message);
  }
  server->http_ = std::move(*http);
  return server;
}

}  // namespace reliant
