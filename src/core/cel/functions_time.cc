// Timestamps and durations as CEL calls them: timestamp() and duration() conversions, + and -
// between them, and the accessors (getFullYear() … on timestamps, in UTC or a given time zone;
// getHours() … on durations, as totals).
#include "core/cel/functions.h"
#include "core/cel/time_zones.h"
#include "core/cel/timestamps.h"

namespace reliant::cel {
namespace {

// A zone lookup may read a file through the loader; it costs as much as a 1.6 kB string.
constexpr std::int64_t kZoneLookupCost = 100;

template <class T>
std::optional<CallResult> from(TimeResult<T> result) {
  if (!result) return fail(std::move(result.error()));
  return Value(*result);
}

std::optional<CallResult> timestamp(const Args& args, bool method, CallContext& context) {
  if (method || args.size() != 1) return std::nullopt;
  if (const auto* text = args[0].get_if<std::string>()) {
    if (!context.budget.charge_bytes(text->size())) return budget_exceeded();
    return from(parse_timestamp(*text));
  }
  if (const auto* seconds = args[0].get_if<std::int64_t>()) {
    const Timestamp t{*seconds, 0};
    if (!in_range(t)) return fail("timestamp out of range");
    return Value(t);
  }
  if (args[0].is<Timestamp>()) return args[0];
  return std::nullopt;
}

std::optional<CallResult> duration(const Args& args, bool method, CallContext& context) {
  if (method || args.size() != 1) return std::nullopt;
  if (const auto* text = args[0].get_if<std::string>()) {
    if (!context.budget.charge_bytes(text->size())) return budget_exceeded();
    return from(parse_duration(*text));
  }
  if (args[0].is<Duration>()) return args[0];
  return std::nullopt;
}

enum class TimeField {
  kFullYear,
  kMonth,
  kDayOfYear,
  kDayOfMonth,
  kDate,
  kDayOfWeek,
  kHours,
  kMinutes,
  kSeconds,
  kMilliseconds
};

// A timestamp's field in UTC or in the zone given as its argument; a duration's hours, minutes
// and seconds in total, and its milliseconds within the second.
template <TimeField field>
std::optional<CallResult> accessor(const Args& args, bool method, CallContext& context) {
  if (!method || args.empty() || args.size() > 2) return std::nullopt;
  if (const auto* d = args[0].get_if<Duration>()) {
    if (args.size() != 1) return std::nullopt;
    switch (field) {
      case TimeField::kHours:
        return Value(d->seconds / 3600);
      case TimeField::kMinutes:
        return Value(d->seconds / 60);
      case TimeField::kSeconds:
        return Value(d->seconds);
      case TimeField::kMilliseconds:
        return Value(std::int64_t{d->nanos / 1'000'000});
      default:
        return std::nullopt;
    }
  }
  const auto* t = args[0].get_if<Timestamp>();
  if (!t) return std::nullopt;
  std::int64_t offset = 0;
  if (args.size() == 2) {
    const auto* zone = args[1].get_if<std::string>();
    if (!zone) return std::nullopt;
    if (!context.budget.charge(kZoneLookupCost)) return budget_exceeded();
    auto found = utc_offset(*zone, t->seconds, context.options.load_time_zone);
    if (!found) return fail(std::move(found.error()));
    offset = *found;
  }
  const CivilTime civil = civil_time(t->seconds + offset);
  switch (field) {
    case TimeField::kFullYear:
      return Value(civil.year);
    case TimeField::kMonth:
      return Value(std::int64_t{civil.month - 1});
    case TimeField::kDayOfYear:
      return Value(std::int64_t{civil.day_of_year});
    case TimeField::kDayOfMonth:
      return Value(std::int64_t{civil.day - 1});
    case TimeField::kDate:
      return Value(std::int64_t{civil.day});
    case TimeField::kDayOfWeek:
      return Value(std::int64_t{civil.day_of_week});
    case TimeField::kHours:
      return Value(std::int64_t{civil.hour});
    case TimeField::kMinutes:
      return Value(std::int64_t{civil.minute});
    case TimeField::kSeconds:
      return Value(std::int64_t{civil.second});
    case TimeField::kMilliseconds:
      return Value(std::int64_t{t->nanos / 1'000'000});
  }
  return std::nullopt;
}

}  // namespace

std::optional<CallResult> time_arithmetic(std::string_view op, const Value& a, const Value& b) {
  const bool add_op = op == op::kAdd;
  if (!add_op && op != op::kSubtract) return std::nullopt;
  const auto* ta = a.get_if<Timestamp>();
  const auto* tb = b.get_if<Timestamp>();
  const auto* da = a.get_if<Duration>();
  const auto* db = b.get_if<Duration>();
  if (ta && db) return from(add_op ? add(*ta, *db) : subtract(*ta, *db));
  if (da && tb && add_op) return from(add(*tb, *da));
  if (ta && tb && !add_op) return from(subtract(*ta, *tb));
  if (da && db) return from(add_op ? add(*da, *db) : subtract(*da, *db));
  return std::nullopt;
}

void add_time_functions(FunctionTable& table) {
  add_function(table, "timestamp", timestamp);
  add_function(table, "duration", duration);
  // Reliant's extension: a name workflows read more easily, the same conversion.
  add_function(table, "parseDuration", duration);
  add_function(table, "getFullYear", accessor<TimeField::kFullYear>);
  add_function(table, "getMonth", accessor<TimeField::kMonth>);
  add_function(table, "getDayOfYear", accessor<TimeField::kDayOfYear>);
  add_function(table, "getDayOfMonth", accessor<TimeField::kDayOfMonth>);
  add_function(table, "getDate", accessor<TimeField::kDate>);
  add_function(table, "getDayOfWeek", accessor<TimeField::kDayOfWeek>);
  add_function(table, "getHours", accessor<TimeField::kHours>);
  add_function(table, "getMinutes", accessor<TimeField::kMinutes>);
  add_function(table, "getSeconds", accessor<TimeField::kSeconds>);
  add_function(table, "getMilliseconds", accessor<TimeField::kMilliseconds>);
}

}  // namespace reliant::cel
