// The HTTP and gRPC ports' deadlines and connection caps as flags and env vars, for the commands
// that serve them (`reliant server api`, `reliant monolith`; the gRPC ones also
// `reliant server gateway`). Unset, each keeps the default of HttpServerOptions or
// GrpcConnectionLimits.
#pragma once

#include <cstddef>

#include "adapters/grpc/grpc_connection_gate.h"
#include "adapters/http/http_server.h"

namespace CLI {
class App;
}  // namespace CLI

namespace reliant {

// A duration as the flags take it: seconds, with a fraction.
inline double seconds_in(Duration d) { return static_cast<double>(to_ms(d)) / 1000.0; }

struct HttpLimitOptions {
  double tls_handshake_timeout_s = seconds_in(HttpServerOptions{}.tls_handshake_timeout);
  double header_read_timeout_s = seconds_in(HttpServerOptions{}.header_read_timeout);
  double body_read_timeout_s = seconds_in(HttpServerOptions{}.body_read_timeout);
  double keep_alive_idle_timeout_s = seconds_in(HttpServerOptions{}.keep_alive_idle_timeout);
  std::size_t connections_max = HttpServerOptions{}.connections_max;
  std::size_t connections_per_address_max = HttpServerOptions{}.connections_per_address_max;
  std::size_t unauthenticated_connections_max = HttpServerOptions{}.unauthenticated_connections_max;
  double unauthenticated_timeout_s = seconds_in(HttpServerOptions{}.unauthenticated_timeout);
};

void add_http_limit_options(CLI::App& command, HttpLimitOptions& options);

// Copies the limits into the server's options.
void apply_http_limits(const HttpLimitOptions& limits, HttpServerOptions& options);

struct GrpcLimitOptions {
  std::size_t connections_max = GrpcConnectionLimits{}.connections_max;
  std::size_t connections_per_address_max = GrpcConnectionLimits{}.connections_per_address_max;
  std::size_t unauthenticated_connections_max =
      GrpcConnectionLimits{}.unauthenticated_connections_max;
  double unauthenticated_timeout_s = seconds_in(GrpcConnectionLimits{}.unauthenticated_timeout);
  double handshake_timeout_s = seconds_in(GrpcConnectionLimits{}.handshake_timeout);
  double idle_timeout_s = seconds_in(GrpcConnectionLimits{}.idle_timeout);
};

void add_grpc_limit_options(CLI::App& command, GrpcLimitOptions& options);

GrpcConnectionLimits grpc_limits(const GrpcLimitOptions& options);

}  // namespace reliant
