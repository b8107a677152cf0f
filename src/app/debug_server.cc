// /metrics and /debug/db, answered from the process's own counters.
#include "app/debug_server.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "adapters/postgres/postgres_store.h"
#include "adapters/sqlite/sqlite_store.h"

namespace reliant {
namespace {

// Transactions waiting for a database thread: the write queue an overloaded store builds up.
std::size_t write_queue_depth(Store& store) {
  if (auto* postgres = dynamic_cast<PostgresStore*>(&store)) return postgres->queue_depth();
  if (auto* sqlite = dynamic_cast<SqliteStore*>(&store)) return sqlite->queue_depth();
  return 0;
}

}  // namespace

void write_metric(std::string& out, const std::string& name, const std::string& type,
                  const std::string& help, double value) {
  char number[64];
  std::snprintf(number, sizeof number, "%.17g", value);
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
         number + "\n";
}

DebugServer::DebugServer(AsioExecutor& executor, Store& store, std::string driver,
                         MetricsWriter metrics)
    : executor_(executor),
      store_(store),
      driver_(std::move(driver)),
      metrics_(std::move(metrics)),
      started_(executor.steady_now()) {}

Result<std::unique_ptr<DebugServer>> DebugServer::start(AsioExecutor& executor, int port,
                                                        Store& store, std::string driver,
                                                        MetricsWriter metrics) {
  std::unique_ptr<DebugServer> server(
      new DebugServer(executor, store, std::move(driver), std::move(metrics)));
  HttpServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = port;
  auto http = HttpServer::start(executor, options, *server);
  if (!http) return fail(http.error());
  server->http_ = std::move(*http);
  return server;
}

Task<HttpResponse> DebugServer::handle(HttpRequest request) {
  HttpResponse response;
  if (request.method != "GET") {
    response.status = 405;
    response.body = R"({"error":"use GET"})";
  } else if (request.path == "/metrics") {
    response.content_type = "text/plain; version=0.0.4";
    write_metric(response.body, "reliant_uptime_seconds", "gauge",
                 "Seconds since the process started.",
                 static_cast<double>(to_ms(executor_.steady_now() - started_)) / 1000.0);
    write_metric(response.body, "reliant_db_write_queue_depth", "gauge",
                 "Transactions waiting for a database thread.",
                 static_cast<double>(write_queue_depth(store_)));
    if (metrics_) metrics_(response.body);
  } else if (request.path == "/debug/db") {
    response.body =
        nlohmann::json{{"driver", driver_}, {"write_queue_depth", write_queue_depth(store_)}}
            .dump();
  } else {
    response.status = 404;
    response.body = R"({"error":"not found: use /metrics or /debug/db"})";
  }
  co_return response;
}

}  // namespace reliant
