// CEL's timestamps and durations (cel-spec doc/langdef.md, "Timestamps and durations"): text to
// values, arithmetic checked against CEL's ranges, and the proleptic Gregorian calendar the
// accessors (getFullYear() …) read. Timestamps span years 1 to 9999; durations are those an int64
// count of nanoseconds holds (about ±292 years), as cel-spec's conformance tests require.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

#include "core/cel/value.h"

namespace reliant::cel {

// A value, or the message of the error CEL reports ("timestamp out of range" …).
template <class T>
using TimeResult = tl::expected<T, std::string>;

// RFC 3339: 2009-02-13T23:31:30Z, 2009-02-13T23:31:30.123-08:00 (1 to 9 fractional digits).
TimeResult<Timestamp> parse_timestamp(std::string_view text);
// Go's time.ParseDuration syntax, as cel-spec's duration() takes it: a sign, then numbers with
// units ns, us (or µs), ms, s, m, h: "1h30m", "-1.5s", "100ms"; "0" alone needs no unit.
TimeResult<Duration> parse_duration(std::string_view text);

bool in_range(const Timestamp& t);
bool in_range(const Duration& d);

TimeResult<Timestamp> add(const Timestamp& t, const Duration& d);
TimeResult<Timestamp> subtract(const Timestamp& t, const Duration& d);
TimeResult<Duration> subtract(const Timestamp& a, const Timestamp& b);
TimeResult<Duration> add(const Duration& a, const Duration& b);
TimeResult<Duration> subtract(const Duration& a, const Duration& b);

// Days since 1970-01-01 of a civil date, and back.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);
void civil_from_days(std::int64_t days, std::int64_t& year, unsigned& month, unsigned& day);

// A moment as a wall clock shows it: what the timestamp accessors return (before CEL's
// zero-based adjustments).
struct CivilTime {
  std::int64_t year = 1970;
  int month = 1;        // 1-12
  int day = 1;          // 1-31
  int day_of_year = 0;  // 0-365
  int day_of_week = 0;  // 0 is Sunday
  int hour = 0;
  int minute = 0;
  int second = 0;
};
// The civil time `seconds` after 1970-01-01T00:00:00 (local seconds: UTC plus the offset).
CivilTime civil_time(std::int64_t seconds);

}  // namespace reliant::cel
