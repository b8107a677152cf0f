// Schedules: when a schedule trigger fires. A spec names cron expressions and an interval,
// whose instants combine as a union, in a time zone; overlap, catch-up and jitter say what a
// scheduler does around those instants. Everything here is pure and deterministic, so every
// replica of the scheduler computes the same instants: an instant is the key of its firing.
// (catch_up.h plans what to fire after downtime.)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "core/cel/time_zones.h"
#include "core/triggers/cron.h"
#include "core/triggers/spec_fields.h"
#include "core/triggers/zone_clock.h"

namespace reliant::triggers {

// What a firing does while a run this trigger started is still going.
enum class Overlap {
  skip,    // the firing is recorded as skipped (the default)
  queue,   // the firing waits, and starts when the running one ends
  cancel,  // the running one is cancelled, then the firing starts
  allow,   // the firing starts beside the running one (Reliant's name for "concurrently")
};
// What a scheduler does with the instants it missed (it was down, or behind).
enum class CatchUp {
  none,  // fire only an instant that is due now; the missed ones are skipped
  one,   // fire the latest missed instant within the catch-up window (the default)
  all,   // fire every missed instant within the window, oldest first
};
std::string_view to_string(Overlap overlap);
std::string_view to_string(CatchUp catch_up);

// Our floor; Reliant's is a minute, but the real-binary tests need a schedule of seconds.
inline constexpr std::int64_t kIntervalMsMin = 1'000;
inline constexpr std::int64_t kCatchUpWindowMsDefault = 10 * 60'000;
inline constexpr std::int64_t kCatchUpWindowMsMax = 366LL * 24 * 3'600'000;
inline constexpr std::size_t kScheduleCronsMax = 16;

struct ScheduleSpec {
  std::vector<std::string> cron;            // five-field expressions (cron.h), as written
  std::optional<std::int64_t> interval_ms;  // every interval_ms after the anchor
  std::string timezone;                     // the crons' zone: "" (UTC) or an IANA name
  Overlap overlap = Overlap::skip;
  CatchUp catch_up = CatchUp::one;
  std::int64_t catchup_window_ms = kCatchUpWindowMsDefault;  // older missed instants: skipped
  std::int64_t jitter_ms = 0;  // each firing is due up to this much after its instant

  bool operator==(const ScheduleSpec&) const = default;
};

// A spec from its JSON: {cron: "expr" | ["e1", "e2"], interval: "30m", timezone:
// "Europe/Paris", overlap: skip|queue|cancel|allow, catch_up: none|one|all, catchup_window:
// "10m", jitter: "5s"}. Every mistake is reported: unknown keys, a cron that does not parse or
// never fires, an unknown zone ("timezone: unknown IANA time zone: Mars/Base", loaded through
// `loader`; a null loader — a caller without the zone database — checks the name's form only),
// an interval below 1 s, neither cron nor interval, bad choices, a catch-up window that is not
// positive or above a year, a negative jitter or one above the interval.
tl::expected<ScheduleSpec, FieldErrors> parse_schedule(const nlohmann::json& json,
                                                       const cel::TimeZoneLoader& loader);
// The spec as parse_schedule reads it back: every field, durations as text ("1h30m").
nlohmann::json to_json(const ScheduleSpec& spec);
// "1h30m", "2s", "1s500ms", "0s": a whole number of milliseconds as cel::parse_duration reads.
std::string duration_text(std::int64_t ms);

// A spec ready to evaluate: its crons parsed, its zone loaded.
class Schedule {
 public:
  // Errors as parse_schedule's messages (a spec built in code may be wrong too); an IANA zone
  // needs `loader` here.
  static tl::expected<Schedule, std::string> compile(const ScheduleSpec& spec,
                                                     const cel::TimeZoneLoader& loader);

  const ScheduleSpec& spec() const { return spec_; }
  bool has_cron() const { return !crons_.empty(); }

  // The first instant strictly after `after_ms`: the least of each cron's next fire and the
  // interval's next anchor_ms + k * interval_ms (k ≥ 1: the first one interval after the
  // anchor, the trigger's creation). nullopt when `after_ms` is outside the years 1970-9999.
  std::optional<std::int64_t> next_after(std::int64_t anchor_ms, std::int64_t after_ms) const;

 private:
  ScheduleSpec spec_;
  std::vector<CronExpr> crons_;
  ZoneClock clock_;
};

// The next instant a firing is FOR — its key — after `after_ms`; an error for a spec that does
// not compile.
tl::expected<std::int64_t, std::string> next_fire_after(const ScheduleSpec& spec,
                                                        std::int64_t anchor_ms,
                                                        std::int64_t after_ms,
                                                        const cel::TimeZoneLoader& loader);

// How long after its instant the firing of `instant_ms` is due: a delay in [0, jitter_ms) from a
// hash of the trigger and the instant, the same on every replica. 0 when jitter_ms ≤ 0. Only
// the due time moves; the firing's key stays its instant.
std::int64_t jitter_delay_ms(std::string_view trigger_id, std::int64_t instant_ms,
                             std::int64_t jitter_ms);

}  // namespace reliant::triggers
