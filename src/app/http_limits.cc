// Flags and env vars of the HTTP port's limits.
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
      .add_option("--http-max-connections", options.max_connections,
                  "Open HTTP connections at most; more are refused at once (lowered to fit the "
                  "descriptor limit, ulimit -n)")
      ->envname("HTTP_MAX_CONNECTIONS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
      ->capture_default_str();
  command
      .add_option("--http-max-connections-per-address", options.max_connections_per_address,
                  "Open HTTP connections from one client address at most; 0: no cap. Set 0 "
                  "behind a load balancer or proxy: all its connections share its address")
      ->envname("HTTP_MAX_CONNECTIONS_PER_ADDRESS")
      ->check(CLI::Range(std::size_t{0}, std::size_t{1} << 20))
      ->capture_default_str();
}

void apply_http_limits(const HttpLimitOptions& limits, HttpServerOptions& options) {
  options.tls_handshake_timeout = from_seconds(limits.tls_handshake_timeout_s);
  options.header_read_timeout = from_seconds(limits.header_read_timeout_s);
  options.body_read_timeout = from_seconds(limits.body_read_timeout_s);
  options.keep_alive_idle_timeout = from_seconds(limits.keep_alive_idle_timeout_s);
  options.max_connections = limits.max_connections;
  options.max_connections_per_address = limits.max_connections_per_address;
}

}  // namespace reliant
