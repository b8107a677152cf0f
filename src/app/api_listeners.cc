// Both listeners from one set of options.
#include "app/api_listeners.h"

#include <spdlog/spdlog.h>

#include "app/text_lists.h"

namespace reliant {

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
  if (options.tls) {
    http_options.tls_cert_file = grpc_options.tls_cert_file = options.tls->cert_file;
    http_options.tls_key_file = grpc_options.tls_key_file = options.tls->key_file;
  }
  ApiListeners listeners;
  auto http = HttpServer::start(executor, http_options, rest);
  if (!http) return fail(http.error());
  listeners.http = std::move(*http);
  if (listeners.http->max_connections() < options.http_limits.max_connections) {
    spdlog::info(
        "at most {} open HTTP connections (not {}), to leave part of the descriptor limit "
        "(ulimit -n) to the process's other files; raise the limit to allow more",
        listeners.http->max_connections(), options.http_limits.max_connections);
  }
  auto grpc = GrpcRpcServer::start(executor, grpc_options, rpc);
  if (!grpc) return fail(grpc.error().code, "cannot serve gRPC: " + grpc.error().message);
  listeners.grpc = std::move(*grpc);
  return listeners;
}

}  // namespace reliant
