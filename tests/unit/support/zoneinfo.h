// The host's zone database (/usr/share/zoneinfo, Debian's tzdata) as a cel::TimeZoneLoader, for
// tests of schedules in real zones; each file is read once per process.
#pragma once

#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/cel/time_zones.h"

namespace reliant::test {

inline std::optional<std::string> read_zoneinfo(std::string_view name) {
  static std::map<std::string, std::optional<std::string>, std::less<>> cache;
  if (const auto found = cache.find(name); found != cache.end()) return found->second;
  std::optional<std::string> data;
  std::ifstream in("/usr/share/zoneinfo/" + std::string(name), std::ios::binary);
  if (in) {
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.starts_with("TZif")) data = std::move(bytes);
  }
  cache.emplace(std::string(name), data);
  return data;
}

inline cel::TimeZoneLoader zoneinfo() { return read_zoneinfo; }

}  // namespace reliant::test
