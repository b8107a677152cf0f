// Schedules: the spec read from JSON and written back, its instants, and jitter.
#include "core/triggers/schedule.h"

#include <algorithm>
#include <array>

#include "base/digest.h"
#include "base/enum_names.h"
#include "core/cel/timestamps.h"

namespace reliant::triggers {
namespace {

constexpr EnumNames<Overlap, 4> kOverlapNames = {{{Overlap::skip, "skip"},
                                                  {Overlap::queue, "queue"},
                                                  {Overlap::cancel, "cancel"},
                                                  {Overlap::allow, "allow"}}};
constexpr EnumNames<CatchUp, 3> kCatchUpNames = {
    {{CatchUp::none, "none"}, {CatchUp::one, "one"}, {CatchUp::all, "all"}}};
constexpr std::array<std::string_view, 7> kScheduleKeys = {
    "catch_up", "catchup_window", "cron", "interval", "jitter", "overlap", "timezone"};

// Reads one spec, collecting every mistake.
class ScheduleReader {
 public:
  ScheduleReader(const nlohmann::json& json, const cel::TimeZoneLoader& loader)
      : json_(json), loader_(loader) {}

  tl::expected<ScheduleSpec, FieldErrors> read() {
    if (!json_.is_object()) {
      add("", "a schedule must be a map with cron or interval");
      return tl::unexpected(std::move(errors_));
    }
    check_known_keys(json_, kScheduleKeys, "schedule", "", errors_);
    read_cron();
    read_zone();
    spec_.interval_ms = duration_at("interval");
    if (spec_.interval_ms && *spec_.interval_ms < kIntervalMsMin) {
      add("/interval", "interval " + duration_text(*spec_.interval_ms) +
                           " is below the minimum of " + duration_text(kIntervalMsMin));
    }
    if (!json_.contains("interval") &&
        (!json_.contains("cron") || (json_["cron"].is_array() && json_["cron"].empty()))) {
      add("", "schedule needs at least one cron expression or an interval");
    }
    if (json_.contains("overlap")) {
      spec_.overlap = choice_at(json_["overlap"], kOverlapNames, "overlap", "/overlap", errors_)
                          .value_or(spec_.overlap);
    }
    if (json_.contains("catch_up")) {
      spec_.catch_up = choice_at(json_["catch_up"], kCatchUpNames, "catch_up", "/catch_up", errors_)
                           .value_or(spec_.catch_up);
    }
    read_windows();
    if (!errors_.empty()) return tl::unexpected(std::move(errors_));
    return std::move(spec_);
  }

 private:
  void add(std::string pointer, std::string message, bool at_key = false) {
    errors_.push_back(FieldError{std::move(pointer), std::move(message), at_key});
  }

  void read_cron() {
    if (!json_.contains("cron")) return;
    const auto& cron = json_["cron"];
    if (cron.is_string()) return cron_at("/cron", "cron", cron.get<std::string>());
    if (!cron.is_array() ||
        !std::all_of(cron.begin(), cron.end(), [](const auto& e) { return e.is_string(); })) {
      return add("/cron", "cron must be an expression or a list of expressions");
    }
    if (cron.size() > kScheduleCronsMax) {
      return add("/cron",
                 "cron has more than " + std::to_string(kScheduleCronsMax) + " expressions");
    }
    for (std::size_t i = 0; i < cron.size(); ++i) {
      cron_at("/cron/" + std::to_string(i), "cron[" + std::to_string(i) + "]",
              cron[i].get<std::string>());
    }
  }

  void cron_at(const std::string& pointer, const std::string& what, const std::string& text) {
    auto expr = CronExpr::parse(text);
    if (!expr) return add(pointer, what + ": " + expr.error());
    if (!expr->can_fire()) {
      return add(pointer, what + ": \"" + text +
                              "\" never fires: its day of the month falls in none of its months");
    }
    spec_.cron.push_back(text);
  }

  void read_zone() {
    if (!json_.contains("timezone")) return;
    const auto& zone = json_["timezone"];
    if (!zone.is_string())
      return add("/timezone", "timezone must be an IANA name, as Europe/Paris");
    spec_.timezone = zone.get<std::string>();
    auto clock = ZoneClock::load(spec_.timezone, loader_);
    // Without the zone database (a caller that does no I/O) an IANA name is checked for its
    // form only; Schedule::compile, which needs the data, checks it in full.
    if (!clock && (loader_ || !cel::is_zone_name(spec_.timezone))) {
      add("/timezone", "timezone: " + clock.error());
    }
  }

  void read_windows() {
    if (auto window = duration_at("catchup_window")) {
      if (*window <= 0) {
        add("/catchup_window", "catchup_window must be positive");
      } else if (*window > kCatchUpWindowMsMax) {
        add("/catchup_window", "catchup_window " + duration_text(*window) +
                                   " is above the maximum of " +
                                   duration_text(kCatchUpWindowMsMax));
      } else {
        spec_.catchup_window_ms = *window;
      }
    }
    if (auto jitter = duration_at("jitter")) {
      spec_.jitter_ms = *jitter;
      if (*jitter < 0) add("/jitter", "jitter must not be negative");
      if (spec_.interval_ms && *jitter > *spec_.interval_ms) {
        add("/jitter", "jitter " + duration_text(*jitter) + " is larger than the interval " +
                           duration_text(*spec_.interval_ms));
      }
    }
  }

  // A Go-style duration ("30m", "1h30m", "2s") in whole milliseconds.
  std::optional<std::int64_t> duration_at(const std::string& key) {
    if (!json_.contains(key)) return std::nullopt;
    const auto& value = json_[key];
    const std::string pointer = "/" + key;
    if (!value.is_string()) {
      add(pointer, key + " must be a duration such as \"30m\" or \"2s\"");
      return std::nullopt;
    }
    auto parsed = cel::parse_duration(value.get<std::string>());
    if (!parsed) {
      add(pointer, key + ": " + parsed.error());
      return std::nullopt;
    }
    if (parsed->nanos % 1'000'000 != 0) {
      add(pointer, key + " must be a whole number of milliseconds");
      return std::nullopt;
    }
    return parsed->seconds * 1000 + parsed->nanos / 1'000'000;
  }

  const nlohmann::json& json_;
  const cel::TimeZoneLoader& loader_;
  ScheduleSpec spec_;
  FieldErrors errors_;
};

}  // namespace

std::string_view to_string(Overlap overlap) { return name_of(kOverlapNames, overlap); }
std::string_view to_string(CatchUp catch_up) { return name_of(kCatchUpNames, catch_up); }

tl::expected<ScheduleSpec, FieldErrors> parse_schedule(const nlohmann::json& json,
                                                       const cel::TimeZoneLoader& loader) {
  return ScheduleReader(json, loader).read();
}

std::string duration_text(std::int64_t ms) {
  if (ms == 0) return "0s";
  std::string out = ms < 0 ? "-" : "";
  // Written out in unsigned arithmetic: the most negative value has no positive twin.
  std::uint64_t left = ms < 0 ? 0 - static_cast<std::uint64_t>(ms) : static_cast<std::uint64_t>(ms);
  for (const auto& [unit, size] : {std::pair<const char*, std::uint64_t>{"h", 3'600'000},
                                   {"m", 60'000},
                                   {"s", 1'000},
                                   {"ms", 1}}) {
    if (left >= size) {
      out += std::to_string(left / size) + unit;
      left %= size;
    }
  }
  return out;
}

nlohmann::json to_json(const ScheduleSpec& spec) {
  nlohmann::json out = {{"cron", spec.cron},
                        {"timezone", spec.timezone},
                        {"overlap", std::string(to_string(spec.overlap))},
                        {"catch_up", std::string(to_string(spec.catch_up))},
                        {"catchup_window", duration_text(spec.catchup_window_ms)},
                        {"jitter", duration_text(spec.jitter_ms)}};
  if (spec.interval_ms) out["interval"] = duration_text(*spec.interval_ms);
  return out;
}

tl::expected<Schedule, std::string> Schedule::compile(const ScheduleSpec& spec,
                                                      const cel::TimeZoneLoader& loader) {
  // The checks parse_schedule makes, on the spec as it would be written.
  if (auto checked = parse_schedule(to_json(spec), loader); !checked) {
    return tl::unexpected(joined_messages(checked.error()));
  }
  auto clock = ZoneClock::load(spec.timezone, loader);
  if (!clock) return tl::unexpected("timezone: " + clock.error());
  Schedule schedule;
  schedule.spec_ = spec;
  for (const auto& text : spec.cron) schedule.crons_.push_back(*CronExpr::parse(text));
  schedule.clock_ = std::move(*clock);
  return schedule;
}

std::optional<std::int64_t> Schedule::next_after(std::int64_t anchor_ms,
                                                 std::int64_t after_ms) const {
  if (after_ms < kInstantMsMin || after_ms > kInstantMsMax) return std::nullopt;
  std::optional<std::int64_t> best;
  if (spec_.interval_ms) {
    const std::int64_t interval = *spec_.interval_ms;
    best = anchor_ms +
           std::max<std::int64_t>(1, floor_div(after_ms - anchor_ms, interval) + 1) * interval;
  }
  for (const auto& cron : crons_) {
    const auto next = cron.next_fire_ms(after_ms, clock_);
    if (next && (!best || *next < *best)) best = *next;
  }
  return best;
}

tl::expected<std::int64_t, std::string> next_fire_after(const ScheduleSpec& spec,
                                                        std::int64_t anchor_ms,
                                                        std::int64_t after_ms,
                                                        const cel::TimeZoneLoader& loader) {
  auto schedule = Schedule::compile(spec, loader);
  if (!schedule) return tl::unexpected(schedule.error());
  if (auto next = schedule->next_after(anchor_ms, after_ms)) return *next;
  return tl::unexpected("the schedule has no instant after " + std::to_string(after_ms) +
                        " ms within " + std::to_string(kCronSearchYears) + " years");
}

std::int64_t jitter_delay_ms(std::string_view trigger_id, std::int64_t instant_ms,
                             std::int64_t jitter_ms) {
  if (jitter_ms <= 0) return 0;
  std::array<char, 8> instant{};
  for (std::size_t i = 0; i < instant.size(); ++i) {
    instant[i] = static_cast<char>(static_cast<std::uint64_t>(instant_ms) >> (8 * i) & 0xFF);
  }
  std::uint64_t h =
      digest64(std::string_view(instant.data(), instant.size()), digest64(trigger_id));
  // splitmix64's finaliser: FNV-1a's low bits alone spread poorly over a small range.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<std::int64_t>(h % static_cast<std::uint64_t>(jitter_ms));
}

}  // namespace reliant::triggers
