// A time zone's wall clock for schedules: UTC instants to local time and back, with the rules a
// cron schedule needs at daylight-saving switches — a local time a forward switch skips maps to
// the first instant after the gap, a local time a backward switch repeats maps to its first
// occurrence. The zone's data comes through core/cel/time_zones.h's loader, read once, when the
// clock is made: evaluating a schedule does no I/O.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "core/cel/time_zones.h"

namespace reliant::triggers {

// Every UTC offset in the tz database lies within ±26 h (the widest is +14 h; -12 h the other
// way, with local mean times of the 19th century a little beyond): local time and UTC never
// differ by more, so a local time's instants are found within this span of it.
inline constexpr std::int64_t kUtcOffsetSpanS = 26 * 3600;

// a / b rounded towards negative infinity (b > 0): instants before 1970 and local times west
// of UTC near it divide into whole minutes and intervals as later ones do.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - (a % b < 0 ? 1 : 0);
}

class ZoneClock {
 public:
  // UTC.
  ZoneClock() = default;

  // "" and "UTC" are UTC; else what cel::utc_offset takes: an IANA name that `loader` returns
  // TZif data for ("Europe/Paris"), or a fixed offset ("+05:30"). Errors: "unknown IANA time
  // zone: NAME" (every IANA name without a loader), or malformed data for a name.
  static tl::expected<ZoneClock, std::string> load(std::string_view zone,
                                                   const cel::TimeZoneLoader& loader);

  // Seconds east of UTC at `unix_s`.
  std::int64_t offset_s(std::int64_t unix_s) const;
  // The wall clock at `unix_s`, as seconds since 1970-01-01T00:00 local.
  std::int64_t local_s(std::int64_t unix_s) const { return unix_s + offset_s(unix_s); }
  // The first instant whose wall clock reads `local_s`; when a forward switch skipped that
  // reading, the instant of the switch (the first one after the gap). Non-decreasing in
  // `local_s`, which is what lets cron search in local time and map each match back.
  std::int64_t first_instant_s(std::int64_t local_s) const;

  // The zone as it was named ("" for UTC).
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::int64_t fixed_offset_s_ = 0;          // the offset when there is no TZif data
  std::shared_ptr<const std::string> tzif_;  // null for UTC and fixed offsets
};

}  // namespace reliant::triggers
