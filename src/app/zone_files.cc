// The machine's tz database, read once per zone (zone_files.h).
#include "app/zone_files.h"

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>

namespace reliant {
namespace {

constexpr std::size_t kZoneNameMax = 64;
constexpr std::size_t kZonesKeptMax = 512;  // a hostile stream of names cannot fill memory

// Area/City names: letters, digits, '_', '-', '+', '/', no empty or dot-led part.
bool zone_name_ok(std::string_view name) {
  if (name.empty() || name.size() > kZoneNameMax || name.front() == '/' || name.back() == '/')
    return false;
  char previous = '/';
  for (const char c : name) {
    const bool allowed = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '+' || c == '/';
    if (!allowed || (c == '/' && previous == '/')) return false;
    previous = c;
  }
  return true;
}

std::optional<std::string> read_zone(std::string_view name) {
  std::ifstream in("/usr/share/zoneinfo/" + std::string(name), std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream data;
  data << in.rdbuf();
  std::string bytes = data.str();
  if (!bytes.starts_with("TZif")) return std::nullopt;  // a directory, or not a zone
  return bytes;
}

struct ZoneCache {
  std::mutex mutex;
  std::map<std::string, std::optional<std::string>, std::less<>> zones;
};

}  // namespace

cel::TimeZoneLoader system_time_zones() {
  auto cache = std::make_shared<ZoneCache>();
  return [cache](std::string_view name) -> std::optional<std::string> {
    if (!zone_name_ok(name)) return std::nullopt;
    std::lock_guard lock(cache->mutex);
    if (const auto found = cache->zones.find(name); found != cache->zones.end())
      return found->second;
    auto loaded = read_zone(name);
    if (cache->zones.size() < kZonesKeptMax) cache->zones.emplace(std::string(name), loaded);
    return loaded;
  };
}

}  // namespace reliant
