// Cron expressions: the classic five fields (minute hour day-of-month month day-of-week), parsed
// and evaluated here by hand — Debian packages no C++ cron library. Evaluation is in a time
// zone's wall clock (zone_clock.h) and pure: an instant in, the next fire instant out.
//
// The language, field by field (minute 0-59, hour 0-23, day-of-month 1-31, month 1-12,
// day-of-week 0-7 where 0 and 7 are Sunday):
//   *            every value
//   5            one value; month names JAN-DEC and day names SUN-SAT, in any case, too
//   1-5          a range, inclusive (MON-FRI); a range that runs backwards is an error
//   */15, 1-30/5, 10/20   a step: every n-th value of the range (a/n runs from a to the maximum)
//   1,15,L-M/N   a list of any of these
// The day rule is POSIX's: when both day-of-month and day-of-week are restricted (anything but
// a bare `*`), a day matches if EITHER matches; when one of them is `*`, the other decides.
// (Vixie cron also treats `*/n` as unrestricted here; POSIX and this parser do not.)
// Macros: @yearly (= @annually), @monthly, @weekly, @daily (= @midnight) and @hourly are
// accepted as their five-field equivalents. Refused with a reason: six- and seven-field forms
// (seconds, years), @every (a schedule's `interval` does that), @reboot, and Quartz's `?`, `L`,
// `W` and `#`.
//
// Daylight-saving time: a local time that a forward switch skips fires once, at the first
// instant after the gap; a local time that a backward switch repeats fires once, at its first
// occurrence.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "core/cel/time_zones.h"
#include "core/triggers/zone_clock.h"

namespace reliant::triggers {

inline constexpr std::size_t kCronTextMax = 256;
// How far ahead a search for the next fire looks. Every expression that can fire at all fires
// within 8 years (Feb 29 skips 2100); one that cannot (`0 0 31 2 *`) ends the search here.
inline constexpr int kCronSearchYears = 10;
// The instants evaluation takes: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z.
inline constexpr std::int64_t kInstantMsMin = 0;
inline constexpr std::int64_t kInstantMsMax = 253402300799999;

class CronExpr {
 public:
  // The expression, or what is wrong with it, where (1-based columns of `text`): "want 5 fields
  // (minute hour day-of-month month day-of-week), got 6 in "…"", "minute: 61 is out of range
  // 0-59 at column 4", "day-of-week: range 5-1 runs backwards at column 9" …
  static tl::expected<CronExpr, std::string> parse(std::string_view text);

  // The first fire instant strictly after `after_ms` (unix milliseconds) on `clock`'s wall
  // clock; fire instants are whole minutes of local time (or a switch's instant, see above).
  // An error when `after_ms` is outside [kInstantMsMin, kInstantMsMax], or when nothing fires
  // within kCronSearchYears ("… does not fire within 10 years of …").
  tl::expected<std::int64_t, std::string> next_fire_ms(std::int64_t after_ms,
                                                       const ZoneClock& clock) const;

  // Whether some day of some year matches: false for `0 0 30 2 *` and the like, whose
  // day-of-month never falls in its months.
  bool can_fire() const;
  // Whether a wall-clock minute matches (minute-resolution local seconds since 1970).
  bool matches_local(std::int64_t local_s) const;

  // The text it was parsed from.
  const std::string& text() const { return text_; }

 private:
  friend class CronParser;
  CronExpr() = default;  // only parse() makes one: an expression matches at least one minute
  bool day_matches(std::int64_t year, int month, int day) const;
  // The first matching minute of local time at or after `local_s`, up to the end of `year_last`.
  std::optional<std::int64_t> next_match_local(std::int64_t local_s, std::int64_t year_last) const;

  std::uint64_t minutes_ = 0;   // bit m: minute m
  std::uint32_t hours_ = 0;     // bit h: hour h
  std::uint32_t days_ = 0;      // bit d: day of the month d (1-31)
  std::uint32_t months_ = 0;    // bit m: month m (1-12)
  std::uint32_t weekdays_ = 0;  // bit d: day of the week d (0 Sunday … 6 Saturday)
  bool days_star_ = true;       // day-of-month is a bare `*`
  bool weekdays_star_ = true;   // day-of-week is a bare `*`
  std::string text_;
};

// parse, ZoneClock::load and next_fire_ms in one: for callers with one question.
tl::expected<std::int64_t, std::string> next_cron_fire_ms(std::string_view expression,
                                                          std::string_view zone,
                                                          std::int64_t after_ms,
                                                          const cel::TimeZoneLoader& loader);

}  // namespace reliant::triggers
