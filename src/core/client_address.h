// Client addresses as limits count them: an IPv6 client by its /64 (one host commonly holds the
// whole prefix), anything else as it is. Pure text handling: no socket library (the ports rule).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reliant {

// The eight groups of an IPv6 address in text (RFC 4291 §2.2: `::` once, an IPv4 tail; brackets
// and a zone, `%eth0`, allowed and dropped); nullopt for anything else.
std::optional<std::array<std::uint16_t, 8>> parse_ipv6(std::string_view text);

// What a per-address limit counts `address` under: "v6/64:" and the first four groups in hex for
// an IPv6 address (an IPv4-mapped one is its IPv4 address), `address` itself otherwise.
std::string address_limit_key(const std::string& address);

}  // namespace reliant
