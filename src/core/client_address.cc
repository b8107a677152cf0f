// IPv6 text to its groups, and the /64 key a per-address limit counts it under.
#include "core/client_address.h"

#include <charconv>
#include <cstdio>
#include <vector>

namespace reliant {
namespace {

// Up to four hex digits.
std::optional<std::uint16_t> hex_group(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  unsigned value = 0;
  const auto [end, problem] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (problem != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// A dotted IPv4 address as two groups.
std::optional<std::array<std::uint16_t, 2>> ipv4_groups(std::string_view text) {
  std::array<unsigned, 4> octets{};
  for (int i = 0; i < 4; ++i) {
    const std::size_t dot = i < 3 ? text.find('.') : text.size();
    if (dot == std::string_view::npos || dot == 0 || dot > 3) return std::nullopt;
    const auto [end, problem] = std::from_chars(text.data(), text.data() + dot, octets[i]);
    if (problem != std::errc() || end != text.data() + dot || octets[i] > 255) return std::nullopt;
    text.remove_prefix(std::min(dot + 1, text.size()));
  }
  return std::array<std::uint16_t, 2>{static_cast<std::uint16_t>(octets[0] << 8 | octets[1]),
                                      static_cast<std::uint16_t>(octets[2] << 8 | octets[3])};
}

// The groups of one side of `::` (or of a whole address without one), in order.
std::optional<std::vector<std::uint16_t>> groups_of(std::string_view text, bool last_side) {
  std::vector<std::uint16_t> groups;
  while (!text.empty()) {
    const std::size_t colon = text.find(':');
    const std::string_view part = text.substr(0, colon);
    if (colon == std::string_view::npos && last_side && part.find('.') != std::string_view::npos) {
      const auto v4 = ipv4_groups(part);
      if (!v4) return std::nullopt;
      groups.insert(groups.end(), v4->begin(), v4->end());
      break;
    }
    const auto group = hex_group(part);
    if (!group) return std::nullopt;
    groups.push_back(*group);
    if (colon == std::string_view::npos) break;
    text.remove_prefix(colon + 1);
    if (text.empty()) return std::nullopt;  // a trailing single colon
  }
  return groups;
}

}  // namespace

std::optional<std::array<std::uint16_t, 8>> parse_ipv6(std::string_view text) {
  if (text.size() > 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  // A zone (fe80::1%eth0, as a link-local peer's address is written): not part of the address.
  if (const std::size_t zone = text.find('%'); zone != std::string_view::npos) {
    if (zone + 1 == text.size()) return std::nullopt;
    text = text.substr(0, zone);
  }
  if (text.size() > 45 || text.find(':') == std::string_view::npos) return std::nullopt;
  const std::size_t gap = text.find("::");
  std::optional<std::vector<std::uint16_t>> head, tail;
  if (gap == std::string_view::npos) {
    head = groups_of(text, true);
    tail = std::vector<std::uint16_t>();
  } else {
    if (text.find("::", gap + 1) != std::string_view::npos) return std::nullopt;
    head = groups_of(text.substr(0, gap), false);
    tail = groups_of(text.substr(gap + 2), true);
  }
  if (!head || !tail) return std::nullopt;
  const std::size_t given = head->size() + tail->size();
  if (gap == std::string_view::npos ? given != 8 : given > 7) return std::nullopt;
  std::array<std::uint16_t, 8> out{};
  for (std::size_t i = 0; i < head->size(); ++i) out[i] = (*head)[i];
  for (std::size_t i = 0; i < tail->size(); ++i) out[8 - tail->size() + i] = (*tail)[i];
  return out;
}

std::string address_limit_key(const std::string& address) {
  const auto groups = parse_ipv6(address);
  if (!groups) return address;
  const bool v4_mapped = (*groups)[0] == 0 && (*groups)[1] == 0 && (*groups)[2] == 0 &&
                         (*groups)[3] == 0 && (*groups)[4] == 0 && (*groups)[5] == 0xFFFF;
  if (v4_mapped) {
    // An IPv4 client of a dual-stack socket: its own address.
    return std::to_string((*groups)[6] >> 8) + "." + std::to_string((*groups)[6] & 0xFF) + "." +
           std::to_string((*groups)[7] >> 8) + "." + std::to_string((*groups)[7] & 0xFF);
  }
  char key[32];
  std::snprintf(key, sizeof key, "v6/64:%04x:%04x:%04x:%04x", (*groups)[0], (*groups)[1],
                (*groups)[2], (*groups)[3]);
  return key;
}

}  // namespace reliant
