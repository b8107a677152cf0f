// firing_once and catch_up_bounded (trigger_checks.h): the triggers, their firings and the runs
// they started, read from the database.
#include "sim/workload/trigger_checks.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "base/json_parse.h"
#include "core/triggers/catch_up.h"
#include "services/storage/sql_row.h"
#include "sim/scenario.h"

namespace reliant::sim {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kFiringOnce = "firing_once";
constexpr std::string_view kCatchUpBounded = "catch_up_bounded";
// From healing, or from a client's last change to a trigger, how long before every instant is
// owed a firing (besides the clocks' errors): the change's transaction may commit a little after
// its reply's world time.
constexpr Duration kTriggersSettle = seconds(5);
// How long after it falls due (its instant plus its jitter) an instant may wait for its firing
// when the run ends.
constexpr Duration kFiringLatenessMax = seconds(10);
constexpr std::int64_t kCatchUpWindowDefaultMs = 10 * 60'000;

// A schedule as its stored spec says, and its instants when they are arithmetic here: phase +
// k·grid after the anchor.
struct CheckedSchedule {
  std::string name;
  bool enabled = true;
  std::int64_t anchor_ms = 0;
  std::string catch_up = "one";
  std::int64_t window_ms = kCatchUpWindowDefaultMs;
  std::int64_t jitter_ms = 0;
  std::int64_t grid_ms = 0;  // 0: instants not computed here
  std::int64_t phase_ms = 0;

  bool on_grid(std::int64_t instant_ms) const {
    return instant_ms > anchor_ms && (instant_ms - phase_ms) % grid_ms == 0;
  }
};

struct CheckedFiring {
  std::string id;
  std::string trigger_id;
  std::string key;
  std::int64_t instant_ms = 0;
  std::string status;
  std::string run_id;
  std::int64_t created_at_ms = 0;
};

struct TriggerBookkeeping {
  std::map<std::string, CheckedSchedule> schedules;                 // by trigger id
  std::vector<CheckedFiring> firings;                               // of instants (no summaries)
  std::map<std::string, std::pair<std::string, std::string>> runs;  // run → (trigger, firing)
  FiringCounts counts;
  std::vector<std::pair<std::string_view, std::string>> problems;
};

std::optional<std::int64_t> spec_duration_ms(const Json& schedule, const char* key) {
  const auto it = schedule.find(key);
  if (it == schedule.end() || !it->is_string()) return std::nullopt;
  auto parsed = parse_duration(it->get<std::string>());
  if (!parsed) return std::nullopt;
  return to_ms(*parsed);
}

// A cron of UTC minutes, "* * * * *" or "*/N * * * *" with N dividing an hour: every N minutes.
std::int64_t cron_grid_ms(const Json& schedule) {
  Json cron = schedule.value("cron", Json());
  if (cron.is_array() && cron.size() == 1) cron = cron[0];
  const std::string zone = schedule.value("timezone", "");
  if (!cron.is_string() || !(zone.empty() || zone == "UTC")) return 0;
  const std::string text = cron.get<std::string>();
  if (text == "* * * * *") return 60'000;
  const std::string rest = " * * * *";
  if (!text.starts_with("*/") || !text.ends_with(rest)) return 0;
  const std::string every = text.substr(2, text.size() - 2 - rest.size());
  if (every.empty() || every.size() > 2 ||
      !std::all_of(every.begin(), every.end(),
                   [](unsigned char c) { return c >= '0' && c <= '9'; }))
    return 0;
  const int minutes = std::stoi(every);
  return minutes > 0 && 60 % minutes == 0 ? minutes * 60'000LL : 0;
}

CheckedSchedule schedule_of(const SqlRecord& r) {
  CheckedSchedule s;
  s.name = r.text("name");
  s.enabled = r.integer("enabled") != 0;
  s.anchor_ms = r.integer("anchor_ms");
  const Json spec = parse_json_or_discarded(r.text("spec_json"), kStoredJsonDepthMax);
  const Json schedule = spec.is_object() ? spec.value("schedule", Json::object()) : Json();
  if (!schedule.is_object()) return s;
  s.catch_up = schedule.value("catch_up", "one");
  s.window_ms = spec_duration_ms(schedule, "catchup_window").value_or(kCatchUpWindowDefaultMs);
  s.jitter_ms = spec_duration_ms(schedule, "jitter").value_or(0);
  const auto interval = spec_duration_ms(schedule, "interval");
  const std::int64_t cron = cron_grid_ms(schedule);
  if (interval && !schedule.contains("cron")) {
    s.grid_ms = *interval;
    s.phase_ms = s.anchor_ms;
  } else if (!interval && cron > 0) {
    s.grid_ms = cron;
  }
  return s;
}

Result<void> read_triggers(SqlTransaction& tx, TriggerBookkeeping& b) {
  auto triggers = tx.query(
      "SELECT id, name, enabled, anchor_ms, spec_json FROM triggers WHERE kind = 'schedule'", {});
  if (!triggers) return fail(triggers.error());
  for (const SqlRecord& r : records(*triggers)) b.schedules[r.text("id")] = schedule_of(r);
  auto firings = tx.query(
      "SELECT id, trigger_id, firing_key, instant_ms, status, run_id, created_at_ms FROM "
      "trigger_firings WHERE kind = 'schedule'",
      {});
  if (!firings) return fail(firings.error());
  for (const SqlRecord& r : records(*firings)) {
    const std::string key = r.text("firing_key");
    // Summaries of the instants a plan skipped, and a broken schedule's notes: no instant's.
    if (key.starts_with("missed:") || key.starts_with("broken:")) {
      ++b.counts[key.starts_with("missed:") ? "missed summaries" : "broken"];
      continue;
    }
    b.firings.push_back({r.text("id"), r.optional_text("trigger_id").value_or(""), key,
                         r.integer("instant_ms"), r.text("status"), r.text("run_id"),
                         r.integer("created_at_ms")});
    ++b.counts[r.text("status")];
  }
  auto runs =
      tx.query("SELECT id, input_json FROM workflow_runs WHERE workflow_name = 'workflow'", {});
  if (!runs) return fail(runs.error());
  for (const SqlRecord& r : records(*runs)) {
    const Json input = parse_json_or_discarded(r.text("input_json"), kStoredJsonDepthMax);
    const Json context = input.is_object() ? input.value("context", Json::object()) : Json();
    if (!context.is_object() || context.value("trigger_id", "").empty()) continue;
    b.runs[r.text("id")] = {context.value("trigger_id", ""), context.value("firing_id", "")};
  }
  return {};
}

std::string instant_text(const std::string& trigger_id, std::int64_t instant_ms) {
  return "trigger " + trigger_id + " instant " + std::to_string(instant_ms);
}

// At most one firing and one run an instant; instants of the schedule; runs of their firings.
void check_firings_once(TriggerBookkeeping& b) {
  std::map<std::pair<std::string, std::int64_t>, std::vector<const CheckedFiring*>> by_instant;
  std::map<std::string, const CheckedFiring*> by_id;
  for (const auto& f : b.firings) {
    by_instant[{f.trigger_id, f.instant_ms}].push_back(&f);
    by_id[f.id] = &f;
    const auto schedule = b.schedules.find(f.trigger_id);
    if (schedule != b.schedules.end() && schedule->second.grid_ms > 0 &&
        !schedule->second.on_grid(f.instant_ms)) {
      b.problems.emplace_back(kFiringOnce, instant_text(f.trigger_id, f.instant_ms) +
                                               " was fired (" + f.key +
                                               "), which is no instant of its schedule");
    }
  }
  for (const auto& [instant, firings] : by_instant) {
    if (firings.size() < 2) continue;
    std::string keys;
    for (const auto* f : firings) keys += (keys.empty() ? "" : ", ") + f->key + " " + f->status;
    b.problems.emplace_back(kFiringOnce, instant_text(instant.first, instant.second) + " has " +
                                             std::to_string(firings.size()) + " firings: " + keys);
  }
  std::map<std::pair<std::string, std::int64_t>, std::vector<std::string>> runs_of_instant;
  for (const auto& [run_id, started_by] : b.runs) {
    const auto firing = by_id.find(started_by.second);
    if (firing == by_id.end() || firing->second->trigger_id != started_by.first) {
      b.problems.emplace_back(kFiringOnce, "run " + run_id + " names firing " + started_by.second +
                                               " of trigger " + started_by.first +
                                               ", which has no such firing");
      continue;
    }
    runs_of_instant[{started_by.first, firing->second->instant_ms}].push_back(run_id);
  }
  for (const auto& [instant, runs] : runs_of_instant) {
    if (runs.size() < 2) continue;
    std::string ids;
    for (const auto& id : runs) ids += (ids.empty() ? "" : ", ") + id;
    b.problems.emplace_back(kFiringOnce, instant_text(instant.first, instant.second) + " started " +
                                             std::to_string(runs.size()) + " runs: " + ids);
  }
  for (const auto& f : b.firings) {
    if (f.status != "launched") continue;
    const auto run = b.runs.find(f.run_id);
    if (run == b.runs.end() || run->second.second != f.id) {
      b.problems.emplace_back(kFiringOnce,
                              "firing " + f.id + " of " + instant_text(f.trigger_id, f.instant_ms) +
                                  " launched run '" + f.run_id + "', which is no run of it");
    }
  }
}

// Every firing within its window (and, under none, at most a tick old); each plan within its
// policy's bound.
void check_catch_up(TriggerBookkeeping& b) {
  std::map<std::pair<std::string, std::int64_t>, std::size_t> per_plan;
  for (const auto& f : b.firings) {
    const auto found = b.schedules.find(f.trigger_id);
    if (found == b.schedules.end()) continue;
    const CheckedSchedule& s = found->second;
    const std::int64_t age_ms = f.created_at_ms - f.instant_ms;
    const std::string what = instant_text(f.trigger_id, f.instant_ms) + " (catch_up " + s.catch_up +
                             ") fired " + std::to_string(age_ms) + " ms after it";
    if (age_ms > s.window_ms) {
      b.problems.emplace_back(kCatchUpBounded,
                              what + ", beyond its window of " + std::to_string(s.window_ms));
    } else if (s.catch_up != "all" && s.grid_ms > 0 && age_ms >= s.grid_ms &&
               s.on_grid(f.instant_ms + s.grid_ms)) {
      b.problems.emplace_back(kCatchUpBounded,
                              what + ", when a later instant was due: it fires only the latest");
    }
    ++per_plan[{f.trigger_id, f.created_at_ms}];
  }
  for (const auto& [plan, fired] : per_plan) {
    const CheckedSchedule& s = b.schedules.at(plan.first);
    const std::size_t bound = s.catch_up == "all" ? triggers::kCatchUpFiringsMax : 1;
    if (fired > bound) {
      b.problems.emplace_back(kCatchUpBounded, "trigger " + plan.first + " (catch_up " +
                                                   s.catch_up + ") fired " + std::to_string(fired) +
                                                   " instants at " + std::to_string(plan.second) +
                                                   " (at most " + std::to_string(bound) + ")");
    }
  }
}

// How far a node's wall clock may be ahead of world time, and behind it, once the faults heal:
// healing undoes no clock step (sim/node_clock.h), so the most the scenario's faults can add up
// to. A scheduler ahead plans instants before they come (and, catching up, may skip those it
// takes for missed); one behind fires them late.
struct ClockErrors {
  Duration ahead{};
  Duration behind{};
};
ClockErrors clock_errors(const Scenario& scenario) {
  const FaultRanges& f = scenario.faults;
  ClockErrors e;
  e.ahead = f.clock_jumps.max * f.clock_jump_length.max + std::max(f.clock_offset.max, Duration{});
  e.behind = f.clock_steps_back.max * f.clock_step_back_length.max +
             std::max(-f.clock_offset.min, Duration{});
  for (const auto& fault : scenario.plan) {
    if (fault.kind == ScriptedFault::Kind::clock_jump) e.ahead += fault.length;
    if (fault.kind == ScriptedFault::Kind::clock_step_back) e.behind += fault.length;
  }
  const double drift = std::max(std::abs(f.clock_drift.min), std::abs(f.clock_drift.max));
  const auto drifted = std::chrono::duration_cast<Duration>(scenario.heal_at * drift);
  e.ahead += drifted;
  e.behind += drifted;
  return e;
}

// Once healthy: every instant due while its trigger was enabled, as its client last set it,
// has exactly one firing.
void check_firings_owed(const std::vector<std::unique_ptr<TriggerClientBook>>& books,
                        const ClockErrors& clocks, TriggerBookkeeping& b, Instant heal,
                        Instant end) {
  std::map<std::pair<std::string, std::int64_t>, int> fired;
  for (const auto& f : b.firings) ++fired[{f.trigger_id, f.instant_ms}];
  for (const auto& book : books) {
    for (const auto& made : book->triggers) {
      const auto found = b.schedules.find(made.id);
      if (made.id.empty() || found == b.schedules.end() || !made.enabled || !made.settled) continue;
      const CheckedSchedule& s = found->second;
      if (!s.enabled) {
        b.problems.emplace_back(kFiringOnce, "trigger " + made.id + " (" + s.name +
                                                 ") is disabled; its client last enabled it");
        continue;
      }
      if (s.grid_ms <= 0) continue;
      const std::int64_t from_ms =
          to_ms(std::max(heal, made.settled_at) + kTriggersSettle + clocks.ahead);
      const std::int64_t until_ms = to_ms(end - kFiringLatenessMax - clocks.behind) - s.jitter_ms;
      const std::int64_t k0 = (std::max(from_ms, s.anchor_ms) - s.phase_ms) / s.grid_ms + 1;
      for (std::int64_t at = s.phase_ms + k0 * s.grid_ms; at <= until_ms; at += s.grid_ms) {
        const int n = fired[{made.id, at}];
        ++b.counts["instants owed after healing"];
        if (n == 1) continue;
        b.problems.emplace_back(kFiringOnce, instant_text(made.id, at) + " (" + s.name +
                                                 ", catch_up " + s.catch_up + ") has " +
                                                 std::to_string(n) +
                                                 " firings, due after healing while enabled");
      }
    }
  }
}

}  // namespace

FiringCounts check_triggers(const std::vector<std::unique_ptr<TriggerClientBook>>& books,
                            const Scenario& scenario, SimDatabase& database, Checker& checker,
                            Instant heal, Instant end) {
  TriggerBookkeeping b;
  auto read =
      database.database().transact([&](SqlTransaction& tx) { return read_triggers(tx, b); });
  if (!read) {
    checker.violation(end, std::string(kFiringOnce),
                      "cannot read the database: " + read.error().message);
    return {};
  }
  check_firings_once(b);
  check_catch_up(b);
  check_firings_owed(books, clock_errors(scenario), b, heal, end);
  for (const auto& [invariant, problem] : b.problems)
    checker.violation(end, std::string(invariant), problem);
  return b.counts;
}

}  // namespace reliant::sim
