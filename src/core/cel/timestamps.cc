// Timestamps and durations: RFC 3339 and Go-style parsing, checked arithmetic, the civil calendar.
#include "core/cel/timestamps.h"

#include <limits>

#include "base/ascii.h"
#include "base/assert.h"

namespace reliant::cel {
namespace {

constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
// The int64 nanosecond range, as seconds and nanos.
constexpr std::int64_t kDurationSecondsLimit = 9'223'372'036;
constexpr std::int64_t kDurationNanosLimit = 854'775'807;

constexpr const char* kTimestampRange = "timestamp out of range";
constexpr const char* kDurationRange = "duration out of range";

// `count` decimal digits at text[at], if they are there.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (!is_ascii_digit(text[i])) return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool is_leap(std::int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int days_in_month(std::int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// A timestamp from seconds and a nanosecond count of either sign (|nanos| < 2e9).
Timestamp normalized_timestamp(std::int64_t seconds, std::int64_t nanos) {
  seconds += nanos / kNanosPerSecond;
  nanos %= kNanosPerSecond;
  if (nanos < 0) {
    seconds -= 1;
    nanos += kNanosPerSecond;
  }
  RELIANT_ASSERT(nanos >= 0 && nanos < kNanosPerSecond);
  return Timestamp{seconds, static_cast<std::int32_t>(nanos)};
}

// A duration whose seconds and nanos share a sign, from any two small enough to add.
Duration normalized_duration(std::int64_t seconds, std::int64_t nanos) {
  seconds += nanos / kNanosPerSecond;
  nanos %= kNanosPerSecond;
  if (seconds > 0 && nanos < 0) {
    seconds -= 1;
    nanos += kNanosPerSecond;
  } else if (seconds < 0 && nanos > 0) {
    seconds += 1;
    nanos -= kNanosPerSecond;
  }
  RELIANT_ASSERT((seconds >= 0 && nanos >= 0) || (seconds <= 0 && nanos <= 0));
  return Duration{seconds, static_cast<std::int32_t>(nanos)};
}

TimeResult<Timestamp> checked(const Timestamp& t) {
  if (!in_range(t)) return tl::unexpected(std::string(kTimestampRange));
  return t;
}

TimeResult<Duration> checked(const Duration& d) {
  if (!in_range(d)) return tl::unexpected(std::string(kDurationRange));
  return d;
}

}  // namespace

TimeResult<Timestamp> parse_timestamp(std::string_view text) {
  const auto invalid = [] {
    return tl::unexpected(std::string("invalid timestamp: want RFC 3339, as 2009-02-13T23:31:30Z"));
  };
  // YYYY-MM-DDThh:mm:ss, then an optional fraction, then Z or ±hh:mm.
  const auto year = digits(text, 0, 4), month = digits(text, 5, 2), day = digits(text, 8, 2);
  const auto hour = digits(text, 11, 2), minute = digits(text, 14, 2);
  const auto second = digits(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return invalid();
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > days_in_month(*year, *month) || *hour > 23 ||
      *minute > 59 || *second > 59) {
    return invalid();
  }
  std::size_t at = 19;
  std::int64_t nanos = 0;
  if (at < text.size() && text[at] == '.') {
    const std::size_t first = ++at;
    std::int64_t scale = kNanosPerSecond;
    while (at < text.size() && is_ascii_digit(text[at]) && at - first < 9) {
      scale /= 10;
      nanos += (text[at++] - '0') * scale;
    }
    if (at == first) return invalid();
  }
  std::int64_t offset = 0;
  if (at < text.size() && text[at] == 'Z') {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const auto offset_hours = digits(text, at + 1, 2), offset_minutes = digits(text, at + 4, 2);
    if (!offset_hours || !offset_minutes || text[at + 3] != ':' || *offset_hours > 23 ||
        *offset_minutes > 59) {
      return invalid();
    }
    offset = (text[at] == '-' ? -1 : 1) * (*offset_hours * 3600 + *offset_minutes * 60);
    at += 6;
  } else {
    return invalid();
  }
  if (at != text.size()) return invalid();
  const std::int64_t seconds =
      days_from_civil(*year, *month, *day) * 86400 + *hour * 3600 + *minute * 60 + *second - offset;
  return checked(Timestamp{seconds, static_cast<std::int32_t>(nanos)});
}

TimeResult<Duration> parse_duration(std::string_view text) {
  const auto invalid = [] {
    return tl::unexpected(std::string("invalid duration: want a number and a unit, as 1h30m"));
  };
  const auto out_of_range = [] { return tl::unexpected(std::string(kDurationRange)); };
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return Duration{};
  if (text.empty()) return invalid();
  // Nanoseconds, as Go counts them: in a uint64, refused beyond 2^63.
  constexpr std::uint64_t kLimit = std::uint64_t{1} << 63;
  struct Unit {
    std::string_view name;
    std::uint64_t nanos;
  };
  static constexpr Unit kUnits[] = {
      {"ns", 1},         {"us", 1'000},        {"\xC2\xB5s", 1'000},  {"\xCE\xBCs", 1'000},
      {"ms", 1'000'000}, {"s", 1'000'000'000}, {"m", 60'000'000'000}, {"h", 3'600'000'000'000}};
  std::uint64_t total = 0;
  while (!text.empty()) {
    std::uint64_t whole = 0;
    bool any_digit = false;
    while (!text.empty() && is_ascii_digit(text[0])) {
      if (whole > kLimit / 10) return out_of_range();
      whole = whole * 10 + static_cast<std::uint64_t>(text[0] - '0');
      any_digit = true;
      text.remove_prefix(1);
    }
    // The fraction's first 18 digits; later ones are below a nanosecond in every unit.
    long double fraction = 0, scale = 1;
    if (!text.empty() && text[0] == '.') {
      text.remove_prefix(1);
      for (int kept = 0; !text.empty() && is_ascii_digit(text[0]); text.remove_prefix(1)) {
        any_digit = true;
        if (kept++ < 18) {
          fraction = fraction * 10 + (text[0] - '0');
          scale *= 10;
        }
      }
    }
    if (!any_digit) return invalid();
    std::size_t unit_length = 0;
    while (unit_length < text.size() && !is_ascii_digit(text[unit_length]) &&
           text[unit_length] != '.') {
      ++unit_length;
    }
    const Unit* unit = nullptr;
    for (const Unit& candidate : kUnits) {
      if (candidate.name == text.substr(0, unit_length)) unit = &candidate;
    }
    if (!unit) return invalid();
    text.remove_prefix(unit_length);
    if (whole > kLimit / unit->nanos) return out_of_range();
    std::uint64_t nanos = whole * unit->nanos;
    nanos += static_cast<std::uint64_t>(fraction / scale * static_cast<long double>(unit->nanos));
    if (nanos > kLimit || total > kLimit - nanos) return out_of_range();
    total += nanos;
  }
  if (!negative && total == kLimit) return out_of_range();
  const std::int64_t signed_total =
      negative ? static_cast<std::int64_t>(0 - total) : static_cast<std::int64_t>(total);
  return normalized_duration(signed_total / kNanosPerSecond, signed_total % kNanosPerSecond);
}

bool in_range(const Timestamp& t) {
  return t.seconds >= kTimestampSecondsMin && t.seconds <= kTimestampSecondsMax && t.nanos >= 0 &&
         t.nanos < kNanosPerSecond;
}

bool in_range(const Duration& d) {
  if (d.seconds > kDurationSecondsLimit || d.seconds < -kDurationSecondsLimit) return false;
  if (d.seconds == kDurationSecondsLimit) return d.nanos <= kDurationNanosLimit;
  if (d.seconds == -kDurationSecondsLimit) return d.nanos >= -kDurationNanosLimit - 1;
  return true;
}

// Operands are in range, so no sum below overflows an int64.
TimeResult<Timestamp> add(const Timestamp& t, const Duration& d) {
  return checked(normalized_timestamp(t.seconds + d.seconds, std::int64_t{t.nanos} + d.nanos));
}

TimeResult<Timestamp> subtract(const Timestamp& t, const Duration& d) {
  return checked(normalized_timestamp(t.seconds - d.seconds, std::int64_t{t.nanos} - d.nanos));
}

TimeResult<Duration> subtract(const Timestamp& a, const Timestamp& b) {
  return checked(normalized_duration(a.seconds - b.seconds, std::int64_t{a.nanos} - b.nanos));
}

TimeResult<Duration> add(const Duration& a, const Duration& b) {
  return checked(normalized_duration(a.seconds + b.seconds, std::int64_t{a.nanos} + b.nanos));
}

TimeResult<Duration> subtract(const Duration& a, const Duration& b) {
  return checked(normalized_duration(a.seconds - b.seconds, std::int64_t{a.nanos} - b.nanos));
}

// H. Hinnant's algorithms (proleptic Gregorian, eras of 400 years).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

void civil_from_days(std::int64_t days, std::int64_t& year, unsigned& month, unsigned& day) {
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(days - era * 146097);
  const unsigned year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  year = static_cast<std::int64_t>(year_of_era) + era * 400;
  const unsigned day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned shifted_month = (5 * day_of_year + 2) / 153;
  day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
  month = shifted_month < 10 ? shifted_month + 3 : shifted_month - 9;
  if (month <= 2) ++year;
}

CivilTime civil_time(std::int64_t seconds) {
  const std::int64_t days = (seconds >= 0 ? seconds : seconds - 86399) / 86400;
  const std::int64_t second_of_day = seconds - days * 86400;
  CivilTime out;
  unsigned month = 0, day = 0;
  civil_from_days(days, out.year, month, day);
  out.month = static_cast<int>(month);
  out.day = static_cast<int>(day);
  out.day_of_year = static_cast<int>(days - days_from_civil(out.year, 1, 1));
  out.day_of_week = static_cast<int>(((days + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  out.hour = static_cast<int>(second_of_day / 3600);
  out.minute = static_cast<int>(second_of_day / 60 % 60);
  out.second = static_cast<int>(second_of_day % 60);
  RELIANT_ASSERT(out.day_of_year >= 0 && out.day_of_year <= 365 && out.hour < 24);
  return out;
}

}  // namespace reliant::cel
