// Flags and env vars of the HTTP and gRPC ports' limits.
#include "app/http_limits.h"

#include <cmath>
#include <cstdint>

#include <CLI/CLI.hpp>

namespace reliant {
namespace {

Duration from_seconds(double s) {
  return milliseconds(static_cast<std::int64_t>(std::llround(s * 1000)));
}

}  // namespace

void add_http_limit_options(CLI::App& command, HttpLimitOptions& options) {
  // At least a millisecond: a deadline of 0 would close every connection at once.
  const auto positive_seconds = CLI::Range(0.001, 86400.0 * 365);
  command
      .add_option("--tls-handshake-timeout", options.tls_handshake_timeout_s,
                  "Seconds a connection may take to finish its TLS handshake")
      ->envname("TLS_HANDSHAKE_TIMEOUT")
      ->check(positive_seconds)
      ->capture_default_str();
  command
      .add_option("--http-header-timeout", options.header_read_timeout_s,
                  "Seconds a client may take to send a request's line and headers, however "
                  "slowly it trickles them")
      ->envname("HTTP_HEADER_TIMEOUT")
      ->check(positive_seconds)
      ->capture_default_str();
  command
      .add_option("--http-body-timeout", options.body_read_timeout_s,
                  "Seconds a client may take to send a whole request body")
      ->envname("HTTP_BODY_TIMEOUT")
      ->check(positive_seconds)
      ->capture_default_str();
  command
      .add_option("--http-idle-timeout", options.keep_alive_idle_timeout_s,
                  "Seconds a kept-alive connection may wait for its next request")
      ->envname("HTTP_IDLE_TIMEOUT")
      ->check(positive_seconds)
      ->capture_default_str();
  command
      .add_option("--http-max-connections", options.connections_max,
                  "Open HTTP connections at most; more are refused at once (lowered to fit the "
                  "descriptor limit, ulimit -n)")
      ->envname("HTTP_MAX_CONNECTIONS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  command
      .add_option("--http-max-connections-per-address", options.connections_per_address_max,
                  "Open HTTP connections from one client address at most; 0: no cap. Set 0 "
                  "behind a load balancer or proxy: all its connections share its address")
      ->envname("HTTP_MAX_CONNECTIONS_PER_ADDRESS")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20))
      ->capture_default_str();
  command
      .add_option("--http-max-unauthenticated-connections", options.unauthenticated_connections_max,
                  "Open HTTP connections on which no request has carried a valid credential yet, "
                  "at most; past it the oldest idle one of the address holding the most is closed")
      ->envname("HTTP_MAX_UNAUTHENTICATED_CONNECTIONS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  command
      .add_option("--http-unauthenticated-timeout", options.unauthenticated_timeout_s,
                  "Seconds an HTTP connection may stay open without a request carrying a valid "
                  "credential")
      ->envname("HTTP_UNAUTHENTICATED_TIMEOUT")
      ->check(positive_seconds)
      ->capture_default_str();
}

void apply_http_limits(const HttpLimitOptions& limits, HttpServerOptions& options) {
  options.tls_handshake_timeout = from_seconds(limits.tls_handshake_timeout_s);
  options.header_read_timeout = from_seconds(limits.header_read_timeout_s);
  options.body_read_timeout = from_seconds(limits.body_read_timeout_s);
  options.keep_alive_idle_timeout = from_seconds(limits.keep_alive_idle_timeout_s);
  options.connections_max = limits.connections_max;
  options.connections_per_address_max = limits.connections_per_address_max;
  options.unauthenticated_connections_max = limits.unauthenticated_connections_max;
  options.unauthenticated_timeout = from_seconds(limits.unauthenticated_timeout_s);
}

void add_grpc_limit_options(CLI::App& command, GrpcLimitOptions& options) {
  const auto positive_seconds = CLI::Range(0.001, 86400.0 * 365);
  command
      .add_option("--grpc-max-connections", options.connections_max,
                  "Open gRPC connections at most, per gRPC port (lowered to fit the descriptor "
                  "limit, ulimit -n)")
      ->envname("GRPC_MAX_CONNECTIONS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  command
      .add_option("--grpc-max-connections-per-address", options.connections_per_address_max,
                  "Open gRPC connections from one client address at most; 0: no cap (behind a "
                  "proxy or load balancer)")
      ->envname("GRPC_MAX_CONNECTIONS_PER_ADDRESS")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20))
      ->capture_default_str();
  command
      .add_option("--grpc-max-unauthenticated-connections", options.unauthenticated_connections_max,
                  "Open gRPC connections on which no call has carried a valid credential yet, at "
                  "most")
      ->envname("GRPC_MAX_UNAUTHENTICATED_CONNECTIONS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  command
      .add_option("--grpc-unauthenticated-timeout", options.unauthenticated_timeout_s,
                  "Seconds a gRPC connection may stay open without a call carrying a valid "
                  "credential")
      ->envname("GRPC_UNAUTHENTICATED_TIMEOUT")
      ->check(positive_seconds)
      ->capture_default_str();
  command
      .add_option("--grpc-handshake-timeout", options.handshake_timeout_s,
                  "Seconds a gRPC connection may take for its TLS handshake and HTTP/2 preface")
      ->envname("GRPC_HANDSHAKE_TIMEOUT")
      ->check(positive_seconds)
      ->capture_default_str();
  command
      .add_option("--grpc-idle-timeout", options.idle_timeout_s,
                  "Seconds a gRPC connection without a call stays open")
      ->envname("GRPC_IDLE_TIMEOUT")
      ->check(positive_seconds)
      ->capture_default_str();
}

GrpcConnectionLimits grpc_limits(const GrpcLimitOptions& options) {
  GrpcConnectionLimits limits;
  limits.connections_max = options.connections_max;
  limits.connections_per_address_max = options.connections_per_address_max;
  limits.unauthenticated_connections_max = options.unauthenticated_connections_max;
  limits.unauthenticated_timeout = from_seconds(options.unauthenticated_timeout_s);
  limits.handshake_timeout = from_seconds(options.handshake_timeout_s);
  limits.idle_timeout = from_seconds(options.idle_timeout_s);
  return limits;
}

}  // namespace reliant
