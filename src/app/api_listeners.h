// The api's two listeners on one address with the same TLS files: REST (and Connect) over HTTP,
// and gRPC. How `reliant server api` and `reliant monolith` serve their ApiServer and GrpcApi.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/grpc/grpc_rpc_server.h"
#include "adapters/http/http_server.h"
#include "app/http_limits.h"
#include "app/self_signed_tls.h"

namespace reliant {

struct ApiListenOptions {
  std::string bind_address;
  int api_port = 0;
  int grpc_port = 0;
  std::string cors_origins;      // comma-separated, or *
  std::optional<TlsFiles> tls;   // none: plaintext
  HttpLimitOptions http_limits;  // the HTTP port's read deadlines and connection caps
  GrpcLimitOptions grpc_limits;  // the gRPC port's
};

struct ApiListeners {
  // The handlers as the servers call them: the api's, logging what error answers leave out
  // (the database's text behind a generic message). Declared first: they outlive the servers.
  std::unique_ptr<HttpHandler> logged_rest;
  std::unique_ptr<RpcHandler> logged_rpc;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<GrpcRpcServer> grpc;  // declared last: stops first
};

// Fails with the first listener's error (the gRPC one says so).
Result<ApiListeners> start_api_listeners(AsioExecutor& executor, const ApiListenOptions& options,
                                         HttpHandler& rest, RpcHandler& rpc);

}  // namespace reliant
