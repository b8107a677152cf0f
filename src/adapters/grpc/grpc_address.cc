// gRPC address parsing: strict, so a typo in --gateway-url fails at start-up, not at dial time.
#include "adapters/grpc/grpc_address.h"

#include <charconv>

namespace reliant {
namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Splits "host:port" (host may be "[v6]"); `default_port` when the port is absent and allowed.
Result<std::pair<std::string, std::uint16_t>> split_host_port(std::string_view text,
                                                              int default_port,
                                                              std::string_view original) {
  auto bad = [&](std::string_view why) {
    return fail(ErrorCode::invalid_argument,
                "address '" + std::string(original) + "' " + std::string(why));
  };
  std::string_view host;
  std::string_view port;
  if (starts_with(text, "[")) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return bad("has an unclosed '[' in its IPv6 host");
    host = text.substr(0, close + 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return bad("has text after its IPv6 host");
      port = rest.substr(1);
      if (port.empty()) return bad("has an empty port");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      host = text;
    } else {
      host = text.substr(0, colon);
      port = text.substr(colon + 1);
      if (port.empty()) return bad("has an empty port");
      if (host.find(':') != std::string_view::npos) return bad("needs [brackets] around IPv6");
    }
  }
  if (host.empty() || host == "[]") return bad("has no host");
  for (char c : host) {
    if (c == '/' || c == '?' || c == '#' || c == '@' || c == ' ') {
      return bad("has a path, query or user part (only scheme://host:port is allowed)");
    }
  }
  int value = default_port;
  if (!port.empty()) {
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value < 0 || value > 65535) {
      return bad("has an invalid port '" + std::string(port) + "'");
    }
  }
  if (value < 0) return bad("needs a port (host:port)");
  return std::pair<std::string, std::uint16_t>(std::string(host),
                                               static_cast<std::uint16_t>(value));
}

}  // namespace

Result<GrpcTlsMode> parse_tls_mode(std::string_view text) {
  if (text == "tls") return GrpcTlsMode::tls;
  if (text == "insecure_tls_skip_verify") return GrpcTlsMode::insecure_tls_skip_verify;
  if (text == "h2c") return GrpcTlsMode::h2c;
  if (text == "infer" || text.empty()) return GrpcTlsMode::infer;
  return fail(ErrorCode::invalid_argument,
              "unknown TLS mode '" + std::string(text) +
                  "' (expected tls, insecure_tls_skip_verify, h2c or infer)");
}

std::string_view to_string(GrpcTlsMode mode) {
  switch (mode) {
    case GrpcTlsMode::infer:
      return "infer";
    case GrpcTlsMode::tls:
      return "tls";
    case GrpcTlsMode::insecure_tls_skip_verify:
      return "insecure_tls_skip_verify";
    case GrpcTlsMode::h2c:
      return "h2c";
  }
  return "?";
}

Result<GrpcDialTarget> parse_dial_address(std::string_view address, GrpcTlsMode mode) {
  std::string_view rest = address;
  GrpcTlsMode inferred = GrpcTlsMode::h2c;
  int default_port = -1;
  if (starts_with(rest, "https://")) {
    rest.remove_prefix(8);
    inferred = GrpcTlsMode::tls;
    default_port = 443;
  } else if (starts_with(rest, "http://")) {
    rest.remove_prefix(7);
    default_port = 80;
  } else if (rest.find("://") != std::string_view::npos) {
    return fail(ErrorCode::invalid_argument,
                "address '" + std::string(address) +
                    "' has an unsupported scheme (use https://, http:// or host:port)");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  auto parts = split_host_port(rest, default_port, address);
  if (!parts) return fail(parts.error());
  return GrpcDialTarget{parts->first + ":" + std::to_string(parts->second),
                        mode == GrpcTlsMode::infer ? inferred : mode};
}

std::string GrpcListenAddress::with_port(std::uint16_t bound_port) const {
  return host + ":" + std::to_string(bound_port);
}

Result<GrpcListenAddress> parse_listen_address(std::string_view address) {
  if (address.find("://") != std::string_view::npos) {
    return fail(ErrorCode::invalid_argument,
                "listen address '" + std::string(address) + "' must be host:port, not a URL");
  }
  auto parts = split_host_port(address, -1, address);
  if (!parts) return fail(parts.error());
  return GrpcListenAddress{parts->first, parts->second};
}

std::string peer_address(std::string_view grpc_peer) {
  std::string_view rest = grpc_peer;
  if (starts_with(rest, "ipv4:")) {
    rest.remove_prefix(5);
  } else if (starts_with(rest, "ipv6:")) {
    rest.remove_prefix(5);
  }
  // gRPC percent-encodes the brackets of IPv6 hosts in URIs.
  std::string out;
  out.reserve(rest.size());
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size()) {
      const std::string_view code = rest.substr(i + 1, 2);
      if (code == "5B" || code == "5b") {
        out += '[';
        i += 2;
        continue;
      }
      if (code == "5D" || code == "5d") {
        out += ']';
        i += 2;
        continue;
      }
    }
    out += rest[i];
  }
  return out;
}

}  // namespace reliant
