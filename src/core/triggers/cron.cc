// Cron expressions: the five-field parser, and the search for the next matching minute.
#include "core/triggers/cron.h"

#include <algorithm>
#include <array>
#include <optional>
#include <span>
#include <vector>

#include "base/ascii.h"
#include "base/assert.h"
#include "core/cel/timestamps.h"

namespace reliant::triggers {
namespace {

struct CronField {
  std::string_view name;
  int min = 0;
  int max = 0;
  std::span<const std::string_view> names;  // names[i] is the value names_base + i
  int names_base = 0;
};

constexpr std::array<std::string_view, 12> kCronMonthNames = {
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kCronDayNames = {"SUN", "MON", "TUE", "WED",
                                                           "THU", "FRI", "SAT"};
const std::array<CronField, 5> kCronFields = {{
    {"minute", 0, 59, {}, 0},
    {"hour", 0, 23, {}, 0},
    {"day-of-month", 1, 31, {}, 0},
    {"month", 1, 12, kCronMonthNames, 1},
    {"day-of-week", 0, 7, kCronDayNames, 0},
}};

struct CronMacro {
  std::string_view name;
  std::string_view fields;
};
constexpr std::array<CronMacro, 7> kCronMacros = {{
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
    {"@monthly", "0 0 1 * *"},
    {"@weekly", "0 0 * * 0"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@hourly", "0 * * * *"},
}};

bool is_cron_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string quoted_cron(std::string_view text) {
  if (text.size() > 64) return "\"" + std::string(text.substr(0, 64)) + "…\"";
  return "\"" + std::string(text) + "\"";
}

int days_in_month(std::int64_t year, int month) {
  const auto first = cel::days_from_civil(year, static_cast<unsigned>(month), 1);
  const auto next = month == 12 ? cel::days_from_civil(year + 1, 1, 1)
                                : cel::days_from_civil(year, static_cast<unsigned>(month + 1), 1);
  return static_cast<int>(next - first);
}

// The lowest set bit of `bits` at or above `from`, up to `last`; -1 when none.
int next_bit(std::uint64_t bits, int from, int last) {
  for (int i = from; i <= last; ++i) {
    if (bits >> i & 1) return i;
  }
  return -1;
}

// The fields of a written expression: [begin, end) offsets, split at white space.
std::vector<std::pair<std::size_t, std::size_t>> cron_tokens(std::string_view text) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && is_cron_space(text[at])) ++at;
    if (at == text.size()) break;
    const std::size_t begin = at;
    while (at < text.size() && !is_cron_space(text[at])) ++at;
    out.emplace_back(begin, at);
  }
  return out;
}

}  // namespace

// Reads one expression's fields into a CronExpr; errors name the field and the column.
class CronParser {
 public:
  explicit CronParser(std::string_view text) : text_(text) {}

  tl::expected<CronExpr, std::string> parse() {
    if (text_.size() > kCronTextMax) {
      return tl::unexpected("a cron expression is at most " + std::to_string(kCronTextMax) +
                            " characters");
    }
    const auto tokens = cron_tokens(text_);
    if (!tokens.empty() && text_[tokens[0].first] == '@') return macro(tokens);
    if (tokens.size() != kCronFields.size()) {
      return tl::unexpected("want 5 fields (minute hour day-of-month month day-of-week), got " +
                            std::to_string(tokens.size()) + " in " + quoted_cron(text_));
    }
    CronExpr expr;
    std::array<std::uint64_t, 5> bits{};
    for (std::size_t i = 0; i < kCronFields.size(); ++i) {
      auto parsed = field(kCronFields[i], tokens[i].first, tokens[i].second);
      if (!parsed) return tl::unexpected(parsed.error());
      bits[i] = *parsed;
    }
    expr.minutes_ = bits[0];
    expr.hours_ = static_cast<std::uint32_t>(bits[1]);
    expr.days_ = static_cast<std::uint32_t>(bits[2]);
    expr.months_ = static_cast<std::uint32_t>(bits[3]);
    // Day 7 is Sunday, as 0 is.
    expr.weekdays_ = static_cast<std::uint32_t>((bits[4] | bits[4] >> 7) & 0x7F);
    expr.days_star_ = token(tokens[2]) == "*";
    expr.weekdays_star_ = token(tokens[4]) == "*";
    expr.text_ = std::string(text_);
    return expr;
  }

 private:
  std::string_view token(std::pair<std::size_t, std::size_t> at) const {
    return text_.substr(at.first, at.second - at.first);
  }

  std::string error(const CronField& f, std::size_t at, const std::string& what) const {
    return std::string(f.name) + ": " + what + " at column " + std::to_string(at + 1);
  }

  tl::expected<CronExpr, std::string> macro(
      const std::vector<std::pair<std::size_t, std::size_t>>& tokens) {
    const auto name = token(tokens[0]);
    if (ascii_iequals(name, "@every")) {
      return tl::unexpected(
          std::string("@every is not supported: a schedule's interval repeats at a fixed rate "
                      "(interval: 30m)"));
    }
    if (ascii_iequals(name, "@reboot"))
      return tl::unexpected(std::string("@reboot is not supported: a schedule has no boot"));
    for (const auto& m : kCronMacros) {
      if (!ascii_iequals(m.name, name)) continue;
      if (tokens.size() > 1) return tl::unexpected(std::string(m.name) + " takes no fields");
      auto expr = CronParser(m.fields).parse();
      RELIANT_ASSERT(expr.has_value());
      expr->text_ = std::string(text_);
      return expr;
    }
    return tl::unexpected("unknown macro " + quoted_cron(token(tokens[0])) +
                          " (@yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)");
  }

  // A comma-separated list of items, as bits.
  tl::expected<std::uint64_t, std::string> field(const CronField& f, std::size_t begin,
                                                 std::size_t end) {
    std::uint64_t bits = 0;
    std::size_t at = begin;
    while (true) {
      std::size_t comma = text_.find(',', at);
      if (comma == std::string_view::npos || comma > end) comma = end;
      auto parsed = item(f, at, comma);
      if (!parsed) return parsed;
      bits |= *parsed;
      if (comma == end) return bits;
      at = comma + 1;
    }
  }

  // `*`, `a` or `a-b`, then an optional `/step`.
  tl::expected<std::uint64_t, std::string> item(const CronField& f, std::size_t begin,
                                                std::size_t end) {
    if (begin == end) return tl::unexpected(error(f, begin, "empty list element"));
    std::size_t at = begin;
    int low = f.min, high = f.max;
    bool single = false;
    if (text_[at] == '*') {
      ++at;
    } else {
      auto first = value(f, at, end);
      if (!first) return tl::unexpected(first.error());
      low = high = *first;
      single = true;
      if (at < end && text_[at] == '-') {
        ++at;
        auto last = value(f, at, end);
        if (!last) return tl::unexpected(last.error());
        high = *last;
        single = false;
        if (high < low) {
          return tl::unexpected(
              error(f, begin,
                    "range " + std::string(text_.substr(begin, at - begin)) + " runs backwards"));
        }
      }
    }
    int step = 1;
    if (at < end && text_[at] == '/') {
      ++at;
      auto parsed = step_at(f, at, end);
      if (!parsed) return tl::unexpected(parsed.error());
      step = *parsed;
      if (single) high = f.max;  // `a/n`: from a to the field's maximum
    }
    if (at < end) return tl::unexpected(error(f, at, unexpected(text_[at])));
    std::uint64_t bits = 0;
    for (int v = low; v <= high; v += step) bits |= std::uint64_t{1} << v;
    return bits;
  }

  tl::expected<int, std::string> step_at(const CronField& f, std::size_t& at, std::size_t end) {
    const std::size_t start = at;
    if (at == end || !is_ascii_digit(text_[at])) {
      return tl::unexpected(error(f, start, "a step needs a number after /"));
    }
    auto n = number(at, end);
    const int step_max = f.max - f.min;
    if (!n || *n < 1 || *n > step_max) {
      return tl::unexpected(error(f, start,
                                  "step " + std::string(text_.substr(start, at - start)) +
                                      " is out of range 1-" + std::to_string(step_max)));
    }
    return *n;
  }

  // Digits at `at` (moved past them); nullopt beyond nine digits.
  std::optional<int> number(std::size_t& at, std::size_t end) const {
    const std::size_t start = at;
    long long n = 0;
    while (at < end && is_ascii_digit(text_[at])) {
      if (at - start < 9) n = n * 10 + (text_[at] - '0');
      ++at;
    }
    if (at - start > 9) return std::nullopt;
    return static_cast<int>(n);
  }

  // A number or a name at `at` (moved past it), within the field's range.
  tl::expected<int, std::string> value(const CronField& f, std::size_t& at, std::size_t end) {
    const std::size_t start = at;
    const std::string range = std::to_string(f.min) + "-" + std::to_string(f.max);
    if (at < end && is_ascii_digit(text_[at])) {
      auto n = number(at, end);
      if (!n || *n < f.min || *n > f.max) {
        return tl::unexpected(
            error(f, start,
                  std::string(text_.substr(start, std::min<std::size_t>(at - start, 12))) +
                      " is out of range " + range));
      }
      return *n;
    }
    if (at < end && is_ascii_alpha(text_[at])) {
      while (at < end && is_ascii_alpha(text_[at])) ++at;
      const auto word = text_.substr(start, at - start);
      if (f.names.empty()) {
        return tl::unexpected(error(f, start, quoted_cron(word) + " is not a number"));
      }
      const std::string upper = ascii_uppercase(word);
      for (std::size_t i = 0; i < f.names.size(); ++i) {
        if (f.names[i] == upper) return f.names_base + static_cast<int>(i);
      }
      return tl::unexpected(error(f, start,
                                  "unknown name " + quoted_cron(word) + " (" +
                                      std::string(f.names.front()) + "-" +
                                      std::string(f.names.back()) + " or " + range + ")"));
    }
    if (at == end) return tl::unexpected(error(f, start, "a value is missing"));
    return tl::unexpected(error(f, start, unexpected(text_[at])));
  }

  static std::string unexpected(char c) {
    if (c > ' ' && c < 0x7F) return "unexpected \"" + std::string(1, c) + "\"";
    static constexpr char kHex[] = "0123456789ABCDEF";
    const auto byte = static_cast<unsigned char>(c);
    return std::string("unexpected byte 0x") + kHex[byte >> 4] + kHex[byte & 0xF];
  }

  std::string_view text_;
};

tl::expected<CronExpr, std::string> CronExpr::parse(std::string_view text) {
  return CronParser(text).parse();
}

bool CronExpr::day_matches(std::int64_t year, int month, int day) const {
  const std::int64_t days =
      cel::days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const auto weekday = static_cast<int>(((days + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
  const bool by_day = (days_ >> day & 1) != 0;
  const bool by_weekday = (weekdays_ >> weekday & 1) != 0;
  // A bare `*` matches every day, so AND leaves the decision to the other field.
  if (days_star_ || weekdays_star_) return by_day && by_weekday;
  return by_day || by_weekday;
}

bool CronExpr::matches_local(std::int64_t local_s) const {
  const auto c = cel::civil_time(local_s);
  return (minutes_ >> c.minute & 1) != 0 && (hours_ >> c.hour & 1) != 0 &&
         (months_ >> c.month & 1) != 0 && day_matches(c.year, c.month, c.day);
}

bool CronExpr::can_fire() const {
  if (days_star_ || !weekdays_star_) return true;  // every month has every weekday
  // Only day-of-month decides: some day of it must fall in one of the months (Feb has 29).
  for (int month = 1; month <= 12; ++month) {
    if ((months_ >> month & 1) == 0) continue;
    const int last = days_in_month(2000, month);
    if (next_bit(days_, 1, last) >= 0) return true;
  }
  return false;
}

std::optional<std::int64_t> CronExpr::next_match_local(std::int64_t local_s,
                                                       std::int64_t year_last) const {
  const auto start = cel::civil_time(local_s);
  std::int64_t year = start.year;
  int month = start.month, day = start.day, hour = start.hour, minute = start.minute;
  // Each pass moves to the next candidate month, day, hour or minute, so the passes are bounded
  // by the months and days up to `year_last` (about 4,000 for ten years).
  while (year <= year_last) {
    if ((months_ >> month & 1) == 0 || day > days_in_month(year, month)) {
      const int next = next_bit(months_, month + 1, 12);
      if (next < 0) {
        ++year;
        month = next_bit(months_, 1, 12);
      } else {
        month = next;
      }
      day = 1, hour = 0, minute = 0;
      continue;
    }
    if (!day_matches(year, month, day)) {
      ++day, hour = 0, minute = 0;
      continue;
    }
    const int h = next_bit(hours_, hour, 23);
    if (h < 0) {
      ++day, hour = 0, minute = 0;
      continue;
    }
    if (h != hour) hour = h, minute = 0;
    const int m = next_bit(minutes_, minute, 59);
    if (m < 0) {
      if (++hour > 23) ++day, hour = 0;
      minute = 0;
      continue;
    }
    const std::int64_t days =
        cel::days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return days * 86400 + hour * 3600 + m * 60;
  }
  return std::nullopt;
}

tl::expected<std::int64_t, std::string> CronExpr::next_fire_ms(std::int64_t after_ms,
                                                               const ZoneClock& clock) const {
  if (after_ms < kInstantMsMin || after_ms > kInstantMsMax) {
    return tl::unexpected("instant " + std::to_string(after_ms) +
                          " ms is outside the years 1970 to 9999");
  }
  const std::int64_t after_s = floor_div(after_ms, 1000);
  std::int64_t local = floor_div(clock.local_s(after_s), 60) * 60;
  const std::int64_t year_last = cel::civil_time(local).year + kCronSearchYears;
  // Local minutes map to instants in order (ZoneClock::first_instant_s), so the first match
  // whose instant is past `after_ms` is the answer. Matches at or before it come only from a
  // repeated hour (`after_ms` in its second pass) or a gap's switch, a few dozen at most.
  while (true) {
    const auto match = next_match_local(local, year_last);
    if (!match) {
      return tl::unexpected(quoted_cron(text_) + " does not fire within " +
                            std::to_string(kCronSearchYears) + " years");
    }
    const std::int64_t instant_ms = clock.first_instant_s(*match) * 1000;
    if (instant_ms > after_ms) return instant_ms;
    local = *match + 60;
  }
}

tl::expected<std::int64_t, std::string> next_cron_fire_ms(std::string_view expression,
                                                          std::string_view zone,
                                                          std::int64_t after_ms,
                                                          const cel::TimeZoneLoader& loader) {
  auto expr = CronExpr::parse(expression);
  if (!expr) return tl::unexpected(expr.error());
  auto clock = ZoneClock::load(zone, loader);
  if (!clock) return tl::unexpected(clock.error());
  return expr->next_fire_ms(after_ms, *clock);
}

}  // namespace reliant::triggers
