// GrpcRpcServer: the gRPC adapter for the RPC port (runtime/rpc.h) — the api's gRPC face
// (spec S1.3: default port 9090). One generic callback service takes every call, so no
// generated service code is needed: the request's bytes go to the RpcHandler on the executor,
// its answer (one message, or a stream of them) goes back through gRPC's threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/grpc/grpc_connection_gate.h"
#include "base/result.h"
#include "runtime/rpc.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace reliant {

namespace grpc_detail {
class CallCounter;
class RpcDispatcher;
class GenericService;
}  // namespace grpc_detail

struct GrpcRpcServerOptions {
  std::string bind_address = "127.0.0.1";  // an IP address or host name ("::" for IPv6)
  int port = 9090;                         // 0: any free port (see GrpcRpcServer::port())
  // Larger requests are refused with RESOURCE_EXHAUSTED before the handler sees them; larger
  // answers fail the call with RESOURCE_EXHAUSTED.
  std::size_t message_bytes_max = 4u << 20;
  // PEM certificate chain and private key: both set, TLS; both empty, plaintext h2c.
  std::string tls_cert_file;
  std::string tls_key_file;
  // The connections' caps and timeouts (GrpcConnectionGate). A connection counts as
  // authenticated once a call on it did (the handler calls RpcCall::authenticated).
  GrpcConnectionLimits limits;
};

class GrpcRpcServer {
 public:
  // Listens and serves on `executor` (its thread runs every handler call and task). Fails with
  // invalid_argument for a bad address, option or unreadable TLS file, and already_exists when
  // the port cannot be bound. `executor` and `handler` must outlive the server; call start()
  // and the destructor on the executor's thread, or while it is not running.
  static Result<std::unique_ptr<GrpcRpcServer>> start(AsioExecutor& executor,
                                                      GrpcRpcServerOptions options,
                                                      RpcHandler& handler);
  // Cancels every open call (clients see CANCELLED/UNAVAILABLE), destroys the handler tasks,
  // and returns once gRPC no longer calls back into anything here.
  ~GrpcRpcServer();
  GrpcRpcServer(const GrpcRpcServer&) = delete;
  GrpcRpcServer& operator=(const GrpcRpcServer&) = delete;

  int port() const { return port_; }
  // The connection cap in force: options.limits.connections_max, or less for a low descriptor
  // limit (grpc_connection_cap()).
  std::size_t connections_max() const { return gate_->connections_max(); }
  // Open connections as the caps count them (the executor's thread).
  std::size_t open_connections() const { return gate_->open_connections(); }
  // Calls gRPC has not finished with yet (any thread).
  std::size_t live_calls() const;

 private:
  GrpcRpcServer(AsioExecutor& executor, std::size_t message_bytes_max, RpcHandler& handler);

  std::shared_ptr<grpc_detail::CallCounter> calls_;
  std::shared_ptr<grpc_detail::RpcDispatcher> dispatcher_;  // the executor's thread only
  std::unique_ptr<grpc_detail::GenericService> service_;
  std::unique_ptr<GrpcConnectionGate> gate_;  // stops before the server
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace reliant
