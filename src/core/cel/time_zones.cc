// Time zones: fixed offsets, TZif files (RFC 8536) and POSIX TZ rules.
#include "core/cel/time_zones.h"

#include <vector>

#include "base/ascii.h"
#include "core/cel/timestamps.h"

namespace reliant::cel {
namespace {

// An unsigned big-endian integer of `size` bytes at data[at], if the data holds it.
std::optional<std::uint64_t> big_endian(std::string_view data, std::size_t at, std::size_t size) {
  if (at > data.size() || data.size() - at < size) return std::nullopt;
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < size; ++i)
    value = value << 8 | static_cast<unsigned char>(data[at + i]);
  return value;
}

// "+05:30", "-02:30", "02:00": seconds east of UTC.
std::optional<std::int64_t> fixed_offset(std::string_view zone) {
  std::int64_t sign = 1;
  if (!zone.empty() && (zone[0] == '+' || zone[0] == '-')) {
    sign = zone[0] == '-' ? -1 : 1;
    zone.remove_prefix(1);
  }
  if (zone.size() != 5 || !is_ascii_digit(zone[0]) || !is_ascii_digit(zone[1]) || zone[2] != ':' ||
      !is_ascii_digit(zone[3]) || !is_ascii_digit(zone[4])) {
    return std::nullopt;
  }
  const int hours = (zone[0] - '0') * 10 + (zone[1] - '0');
  const int minutes = (zone[3] - '0') * 10 + (zone[4] - '0');
  if (hours > 23 || minutes > 59) return std::nullopt;
  return sign * (hours * 3600 + minutes * 60);
}

// A cursor over a POSIX TZ rule.
class RuleReader {
 public:
  explicit RuleReader(std::string_view text) : text_(text) {}
  bool done() const { return at_ == text_.size(); }
  bool take(char c) {
    if (done() || text_[at_] != c) return false;
    ++at_;
    return true;
  }
  bool peek_digit_or_sign() const {
    return !done() && (is_ascii_digit(text_[at_]) || text_[at_] == '+' || text_[at_] == '-');
  }
  // A zone abbreviation: letters ("PST"), or anything but '>' within <…> ("<+0545>").
  bool name() {
    const std::size_t start = at_;
    if (take('<')) {
      while (!done() && text_[at_] != '>') ++at_;
      return take('>') && at_ - start > 2;
    }
    while (!done() &&
           ((text_[at_] >= 'a' && text_[at_] <= 'z') || (text_[at_] >= 'A' && text_[at_] <= 'Z'))) {
      ++at_;
    }
    return at_ - start >= 3;
  }
  std::optional<int> number(int max) {
    if (done() || !is_ascii_digit(text_[at_])) return std::nullopt;
    int value = 0;
    while (!done() && is_ascii_digit(text_[at_])) {
      value = value * 10 + (text_[at_++] - '0');
      if (value > max) return std::nullopt;
    }
    return value;
  }
  // [+-]hh[:mm[:ss]] in seconds; hours up to 167, as RFC 8536 allows in transition times.
  std::optional<std::int64_t> time() {
    std::int64_t sign = 1;
    if (take('-')) {
      sign = -1;
    } else {
      take('+');
    }
    auto hours = number(167);
    if (!hours) return std::nullopt;
    std::int64_t seconds = *hours * 3600;
    for (int scale : {60, 1}) {
      if (!take(':')) break;
      auto part = number(59);
      if (!part) return std::nullopt;
      seconds += *part * scale;
    }
    return sign * seconds;
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
};

// When a rule switches: Jn (1-365, never counting Feb 29), n (0-365) or Mm.w.d, and a local time.
struct SwitchRule {
  char kind = 'M';  // 'J', 'N' or 'M'
  int day = 0;      // J and N: the day; M: the weekday, 0 = Sunday
  int month = 0;
  int week = 0;  // 1-5, 5 = the last
  std::int64_t time = 7200;
};

std::optional<SwitchRule> switch_rule(RuleReader& reader) {
  SwitchRule rule;
  if (reader.take('J')) {
    rule.kind = 'J';
    auto day = reader.number(365);
    if (!day || *day < 1) return std::nullopt;
    rule.day = *day;
  } else if (reader.take('M')) {
    auto month = reader.number(12);
    if (!month || *month < 1 || !reader.take('.')) return std::nullopt;
    auto week = reader.number(5);
    if (!week || *week < 1 || !reader.take('.')) return std::nullopt;
    auto weekday = reader.number(6);
    if (!weekday) return std::nullopt;
    rule.month = *month;
    rule.week = *week;
    rule.day = *weekday;
  } else {
    rule.kind = 'N';
    auto day = reader.number(365);
    if (!day) return std::nullopt;
    rule.day = *day;
  }
  if (reader.take('/')) {
    auto time = reader.time();
    if (!time) return std::nullopt;
    rule.time = *time;
  }
  return rule;
}

// The local moment (seconds since 1970-01-01T00:00 local) a rule names in `year`.
std::int64_t local_switch(const SwitchRule& rule, std::int64_t year) {
  const std::int64_t january_first = days_from_civil(year, 1, 1);
  std::int64_t day = 0;
  if (rule.kind == 'J') {
    const bool leap = days_from_civil(year, 3, 1) - days_from_civil(year, 2, 1) == 29;
    day = january_first + rule.day - 1 + (leap && rule.day >= 60 ? 1 : 0);
  } else if (rule.kind == 'N') {
    day = january_first + rule.day;
  } else {
    const std::int64_t first = days_from_civil(year, static_cast<unsigned>(rule.month), 1);
    const std::int64_t next = rule.month == 12
                                  ? days_from_civil(year + 1, 1, 1)
                                  : days_from_civil(year, static_cast<unsigned>(rule.month + 1), 1);
    const std::int64_t first_weekday = ((first + 4) % 7 + 7) % 7;
    day = first + (rule.day - first_weekday + 7) % 7 + (rule.week - 1) * 7;
    while (day >= next) day -= 7;
  }
  return day * 86400 + rule.time;
}

}  // namespace

bool is_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 255 || name[0] == '/' || name.find("..") != name.npos) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_ascii_digit(c) ||
                    c == '_' || c == '+' || c == '-' || c == '/' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::int64_t> posix_tz_offset(std::string_view text, std::int64_t unix_seconds) {
  RuleReader reader(text);
  if (!reader.name()) return std::nullopt;
  auto standard = reader.time();  // POSIX counts west of UTC as positive
  if (!standard) return std::nullopt;
  const std::int64_t standard_offset = -*standard;
  if (reader.done()) return standard_offset;
  if (!reader.name()) return std::nullopt;
  std::int64_t daylight_offset = standard_offset + 3600;
  if (reader.peek_digit_or_sign()) {
    auto daylight = reader.time();
    if (!daylight) return std::nullopt;
    daylight_offset = -*daylight;
  }
  // POSIX's default rule when none is given: the United States' since 2007.
  SwitchRule start{'M', 0, 3, 2, 7200}, end{'M', 0, 11, 1, 7200};
  if (reader.take(',')) {
    auto parsed_start = switch_rule(reader);
    if (!parsed_start || !reader.take(',')) return std::nullopt;
    auto parsed_end = switch_rule(reader);
    if (!parsed_end) return std::nullopt;
    start = *parsed_start;
    end = *parsed_end;
  }
  if (!reader.done()) return std::nullopt;
  // Daylight time starts at a standard-time moment and ends at a daylight-time one.
  const std::int64_t year = civil_time(unix_seconds + standard_offset).year;
  const std::int64_t starts = local_switch(start, year) - standard_offset;
  const std::int64_t ends = local_switch(end, year) - daylight_offset;
  const bool daylight = starts < ends ? unix_seconds >= starts && unix_seconds < ends
                                      : !(unix_seconds >= ends && unix_seconds < starts);
  return daylight ? daylight_offset : standard_offset;
}

std::optional<std::int64_t> tzif_offset(std::string_view data, std::int64_t unix_seconds) {
  // The header: magic, version, 15 unused bytes, then six counts.
  constexpr std::size_t kHeaderSize = 44;
  if (data.substr(0, 4) != "TZif" || data.size() < kHeaderSize) return std::nullopt;
  const bool version_2 = data[4] >= '2';
  std::size_t header = 0;
  std::size_t time_size = 4;
  const auto block_size = [&](std::size_t at, std::size_t size) -> std::optional<std::size_t> {
    std::uint64_t counts[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
    for (std::size_t i = 0; i < 6; ++i) {
      auto count = big_endian(data, at + 20 + 4 * i, 4);
      if (!count) return std::nullopt;
      counts[i] = *count;
    }
    return counts[3] * (size + 1) + counts[4] * 6 + counts[5] + counts[2] * (size + 4) + counts[1] +
           counts[0];
  };
  if (version_2) {
    // Skip the 32-bit block to the second header, whose data has 64-bit times.
    auto first = block_size(0, 4);
    if (!first) return std::nullopt;
    header = kHeaderSize + *first;
    time_size = 8;
  }
  const auto transition_count = big_endian(data, header + 32, 4);
  const auto type_count = big_endian(data, header + 36, 4);
  const auto size = block_size(header, time_size);
  if (!transition_count || !type_count || !size || *type_count == 0 ||
      data.size() < header + kHeaderSize || data.size() - header - kHeaderSize < *size) {
    return std::nullopt;
  }
  const std::size_t times = header + kHeaderSize;
  const std::size_t indices = times + *transition_count * time_size;
  const std::size_t types = indices + *transition_count;
  const auto transition_at = [&](std::size_t i) {
    const std::uint64_t raw = *big_endian(data, times + i * time_size, time_size);
    return time_size == 8 ? static_cast<std::int64_t>(raw)
                          : static_cast<std::int64_t>(static_cast<std::int32_t>(raw));
  };
  const auto type_offset = [&](std::uint64_t type) -> std::optional<std::int64_t> {
    if (type >= *type_count) return std::nullopt;
    return static_cast<std::int32_t>(*big_endian(data, types + type * 6, 4));
  };
  // After the last transition the footer's rule applies (version 2 and later).
  if (version_2 &&
      (*transition_count == 0 || unix_seconds > transition_at(*transition_count - 1))) {
    const std::size_t footer = times + *size;
    const std::size_t footer_end = data.find('\n', footer + 1);
    if (footer < data.size() && data[footer] == '\n' && footer_end != data.npos &&
        footer_end > footer + 1) {
      return posix_tz_offset(data.substr(footer + 1, footer_end - footer - 1), unix_seconds);
    }
  }
  // The last transition at or before the moment; before the first one, type 0 applies.
  std::size_t low = 0, high = *transition_count;
  while (low < high) {
    const std::size_t middle = low + (high - low) / 2;
    if (transition_at(middle) <= unix_seconds) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  if (low == 0) return type_offset(0);
  return type_offset(static_cast<unsigned char>(data[indices + low - 1]));
}

tl::expected<std::int64_t, std::string> utc_offset(std::string_view zone, std::int64_t unix_seconds,
                                                   const TimeZoneLoader& load) {
  if (zone == "UTC" || zone == "Z") return 0;
  if (auto fixed = fixed_offset(zone)) return *fixed;
  if (is_zone_name(zone) && load) {
    if (auto data = load(zone)) {
      if (auto offset = tzif_offset(*data, unix_seconds)) return *offset;
      return tl::unexpected("malformed time zone data for '" + std::string(zone) + "'");
    }
  }
  const std::string shown =
      zone.size() > 64 ? std::string(zone.substr(0, 64)) + "…" : std::string(zone);
  return tl::unexpected("unknown time zone '" + shown + "'");
}

}  // namespace reliant::cel
