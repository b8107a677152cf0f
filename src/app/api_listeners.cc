// Both listeners from one set of options, each behind a handler that logs what error answers
// leave out.
#include "app/api_listeners.h"

#include <spdlog/spdlog.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "app/text_lists.h"

namespace reliant {
namespace {

// Passes every request through and logs the detail an error answer left out (log_note).
class LoggedHttp final : public HttpHandler {
 public:
  explicit LoggedHttp(HttpHandler& inner) : inner_(inner) {}

  Task<HttpResponse> handle(HttpRequest request) override {
    const std::string what = request.method + " " + request.path;
    Task<HttpResponse> handling = inner_.handle(std::move(request));
    HttpResponse response = co_await handling;
    if (!response.log_note.empty()) {
      spdlog::warn("{} answered {}: {}", what, response.status, response.log_note);
      response.log_note.clear();
    }
    co_return response;
  }

 private:
  HttpHandler& inner_;
};

// Passes every call through and logs an error whose status message leaves something out
// (status_of sends client_message).
class LoggedRpc final : public RpcHandler {
 public:
  explicit LoggedRpc(RpcHandler& inner) : inner_(inner) {}

  bool knows(std::string_view method) const override { return inner_.knows(method); }
  bool is_server_streaming(std::string_view method) const override {
    return inner_.is_server_streaming(method);
  }
  bool is_bidi_streaming(std::string_view method) const override {
    return inner_.is_bidi_streaming(method);
  }
  Task<Result<void>> bidi_stream(RpcCall call, RpcReader& in, RpcWriter& out) override {
    const std::string method = call.method;
    Task<Result<void>> streaming = inner_.bidi_stream(std::move(call), in, out);
    Result<void> ended = co_await streaming;
    if (!ended) log_hidden(method, ended.error());
    co_return ended;
  }
  Task<Result<std::string>> unary(RpcCall call) override {
    const std::string method = call.method;
    Task<Result<std::string>> calling = inner_.unary(std::move(call));
    std::optional<Result<std::string>> answer;
    try {
      Result<std::string> got = co_await calling;
      answer.emplace(std::move(got));
    } catch (const std::exception& e) {  // the server answers INTERNAL; the log says why
      spdlog::warn("{} threw: {}", method, e.what());
      throw;
    }
    if (!*answer) log_hidden(method, answer->error());
    co_return std::move(*answer);
  }
  Task<Result<void>> server_stream(RpcCall call, RpcWriter& out) override {
    const std::string method = call.method;
    Task<Result<void>> streaming = inner_.server_stream(std::move(call), out);
    std::optional<Result<void>> ended;
    try {
      Result<void> got = co_await streaming;
      ended.emplace(std::move(got));
    } catch (const std::exception& e) {
      spdlog::warn("{} threw: {}", method, e.what());
      throw;
    }
    if (!*ended) log_hidden(method, ended->error());
    co_return std::move(*ended);
  }

 private:
  static void log_hidden(const std::string& method, const Error& error) {
    if (client_message(error) != error.message)
      spdlog::warn("{} failed: {}", method, error.describe());
  }

  RpcHandler& inner_;
};

}  // namespace

Result<ApiListeners> start_api_listeners(AsioExecutor& executor, const ApiListenOptions& options,
                                         HttpHandler& rest, RpcHandler& rpc) {
  HttpServerOptions http_options;
  http_options.bind_address = options.bind_address;
  http_options.port = options.api_port;
  http_options.cors_origins = split_list(options.cors_origins);
  apply_http_limits(options.http_limits, http_options);
  GrpcRpcServerOptions grpc_options;
  grpc_options.bind_address = options.bind_address;
  grpc_options.port = options.grpc_port;
  grpc_options.limits = grpc_limits(options.grpc_limits);
  if (options.tls) {
    http_options.tls_cert_file = grpc_options.tls_cert_file = options.tls->cert_file;
    http_options.tls_key_file = grpc_options.tls_key_file = options.tls->key_file;
  }
  ApiListeners listeners;
  listeners.logged_rest = std::make_unique<LoggedHttp>(rest);
  listeners.logged_rpc = std::make_unique<LoggedRpc>(rpc);
  auto http = HttpServer::start(executor, http_options, *listeners.logged_rest);
  if (!http) return fail(http.error());
  listeners.http = std::move(*http);
  if (listeners.http->connections_max() < options.http_limits.connections_max) {
    spdlog::info(
        "at most {} open HTTP connections (not {}), to leave part of the descriptor limit "
        "(ulimit -n) to the process's other files; raise the limit to allow more",
        listeners.http->connections_max(), options.http_limits.connections_max);
  }
  auto grpc = GrpcRpcServer::start(executor, grpc_options, *listeners.logged_rpc);
  if (!grpc) return fail(grpc.error().code, "cannot serve gRPC: " + grpc.error().message);
  listeners.grpc = std::move(*grpc);
  if (listeners.grpc->connections_max() < options.grpc_limits.connections_max) {
    spdlog::info(
        "at most {} open gRPC connections (not {}), to fit the descriptor limit "
        "(ulimit -n)",
        listeners.grpc->connections_max(), options.grpc_limits.connections_max);
  }
  return listeners;
}

}  // namespace reliant
