// gRPC addresses: dial URLs and TLS modes (spec S1.17), listen addresses, peer strings.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace reliant {

// How dial() secures its connection. `infer` follows the URL: https:// → tls; http:// or a bare
// host:port → h2c. An explicit mode wins over the scheme (--tls-mode, spec S1.17).
enum class GrpcTlsMode {
  infer,
  tls,                       // TLS, the server certificate verified (production)
  insecure_tls_skip_verify,  // TLS, any certificate accepted (self-signed certificates)
  h2c,                       // plaintext HTTP/2 (local development)
};

// "tls", "insecure_tls_skip_verify", "h2c", "infer" (the --tls-mode values).
Result<GrpcTlsMode> parse_tls_mode(std::string_view text);
std::string_view to_string(GrpcTlsMode mode);

struct GrpcDialTarget {
  std::string authority;  // "host:port", what gRPC's DNS resolver takes
  GrpcTlsMode tls_mode;   // never `infer`
};

// `https://host[:port][/]`, `http://host[:port][/]` or `host:port`; IPv6 hosts in brackets.
// Fails with invalid_argument for any other scheme, a path, a missing host or a bad port.
Result<GrpcDialTarget> parse_dial_address(std::string_view address, GrpcTlsMode mode);

struct GrpcListenAddress {
  std::string host;  // as given ("0.0.0.0", "127.0.0.1", "[::]", "localhost")
  std::uint16_t port;
  std::string with_port(std::uint16_t bound_port) const;
};

// `host:port` (port 0: any free port). Fails with invalid_argument otherwise.
Result<GrpcListenAddress> parse_listen_address(std::string_view address);

// gRPC's peer strings ("ipv4:127.0.0.1:5000", "ipv6:%5B::1%5D:5000") as "ip:port".
std::string peer_address(std::string_view grpc_peer);

}  // namespace reliant
