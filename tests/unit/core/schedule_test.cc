// Schedules: the spec read from JSON (each mistake's message) and written back, the union of
// crons and an interval, jitter, and catch-up plans after downtime, bounded however long.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "core/cel/timestamps.h"
#include "core/triggers/catch_up.h"
#include "core/triggers/schedule.h"
#include "unit/support/zoneinfo.h"

namespace reliant::triggers {
namespace {

using Json = nlohmann::json;

std::int64_t schedule_ms(const char* rfc3339) {
  return cel::parse_timestamp(rfc3339)->seconds * 1000;
}

// Every message for `json`, joined, or "ok".
std::string schedule_errors_of(const char* json) {
  auto spec = parse_schedule(Json::parse(json), test::zoneinfo());
  if (spec) return "ok";
  std::string out;
  for (const auto& e : spec.error()) out += (out.empty() ? "" : "\n") + e.pointer + " " + e.message;
  return out;
}

Schedule compiled_schedule(const char* json) {
  auto spec = parse_schedule(Json::parse(json), test::zoneinfo());
  EXPECT_TRUE(spec) << joined_messages(spec.error());
  auto schedule = Schedule::compile(*spec, test::zoneinfo());
  EXPECT_TRUE(schedule) << schedule.error();
  return *schedule;
}

TEST(ScheduleSpec, ReadsEveryFieldAndWritesItBack) {
  auto spec = parse_schedule(Json::parse(R"({"cron": ["0 9 * * MON-FRI", "@hourly"],
      "interval": "1h30m", "timezone": "Europe/Paris", "overlap": "queue", "catch_up": "all",
      "catchup_window": "2h", "jitter": "1.5s"})"),
                             test::zoneinfo());
  ASSERT_TRUE(spec) << joined_messages(spec.error());
  EXPECT_EQ(spec->cron, (std::vector<std::string>{"0 9 * * MON-FRI", "@hourly"}));
  EXPECT_EQ(spec->interval_ms, 5'400'000);
  EXPECT_EQ(spec->timezone, "Europe/Paris");
  EXPECT_EQ(spec->overlap, Overlap::queue);
  EXPECT_EQ(spec->catch_up, CatchUp::all);
  EXPECT_EQ(spec->catchup_window_ms, 7'200'000);
  EXPECT_EQ(spec->jitter_ms, 1'500);
  const auto json = to_json(*spec);
  EXPECT_EQ(
      json.dump(),
      R"({"catch_up":"all","catchup_window":"2h","cron":["0 9 * * MON-FRI","@hourly"],)"
      R"("interval":"1h30m","jitter":"1s500ms","overlap":"queue","timezone":"Europe/Paris"})");
  EXPECT_EQ(*parse_schedule(json, test::zoneinfo()), *spec);
}

TEST(ScheduleSpec, DefaultsAndTheShortForms) {
  auto spec = parse_schedule(Json::parse(R"({"cron": "*/5 * * * *"})"), nullptr);
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->cron, std::vector<std::string>{"*/5 * * * *"});
  EXPECT_FALSE(spec->interval_ms.has_value());
  EXPECT_EQ(spec->timezone, "");
  EXPECT_EQ(spec->overlap, Overlap::skip);
  EXPECT_EQ(spec->catch_up, CatchUp::one);
  EXPECT_EQ(spec->catchup_window_ms, 600'000);
  EXPECT_EQ(spec->jitter_ms, 0);
  EXPECT_EQ(*parse_schedule(to_json(*spec), nullptr), *spec);
  EXPECT_EQ(parse_schedule(Json::parse(R"({"interval": "2s"})"), nullptr)->interval_ms, 2'000);
  for (const auto* text : {"2s", "90s", "1h1m1s1ms", "0s", "999ms", "26h"}) {
    const auto parsed = cel::parse_duration(text);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(duration_text(parsed->seconds * 1000 + parsed->nanos / 1'000'000),
              std::string(text) == "90s" ? "1m30s" : text);
  }
}

TEST(ScheduleSpec, EachMistakeIsReportedWithItsPlace) {
  EXPECT_EQ(
      schedule_errors_of(R"({"cron": "* * * *", "intervl": "5m"})"),
      "/intervl unknown key \"intervl\" in schedule (expected catch_up, catchup_window, cron, "
      "interval, jitter, overlap, timezone)\n"
      "/cron cron: want 5 fields (minute hour day-of-month month day-of-week), got 4 in "
      "\"* * * *\"");
  EXPECT_EQ(schedule_errors_of(R"({"cron": ["0 * * * *", "61 * * * *"]})"),
            "/cron/1 cron[1]: minute: 61 is out of range 0-59 at column 1");
  EXPECT_EQ(schedule_errors_of(R"({"cron": "0 0 31 2 *"})"),
            "/cron cron: \"0 0 31 2 *\" never fires: its day of the month falls in none of its "
            "months");
  EXPECT_EQ(schedule_errors_of(R"({"cron": 5})"),
            "/cron cron must be an expression or a list of expressions");
  EXPECT_EQ(schedule_errors_of(R"({"cron": "@daily", "timezone": "Mars/Olympus"})"),
            "/timezone timezone: unknown IANA time zone: Mars/Olympus");
  EXPECT_EQ(schedule_errors_of(R"({"cron": "@daily", "timezone": 2})"),
            "/timezone timezone must be an IANA name, as Europe/Paris");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "500ms"})"),
            "/interval interval 500ms is below the minimum of 1s");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "-1m"})"),
            "/interval interval -1m is below the minimum of 1s");
  EXPECT_EQ(schedule_errors_of(R"({"interval": 30})"),
            "/interval interval must be a duration such as \"30m\" or \"2s\"");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "soon"})"),
            "/interval interval: invalid duration: want a number and a unit, as 1h30m");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "1.0005s"})"),
            "/interval interval must be a whole number of milliseconds");
  EXPECT_EQ(schedule_errors_of(R"({})"),
            " schedule needs at least one cron expression or an interval");
  EXPECT_EQ(schedule_errors_of(R"({"cron": []})"),
            " schedule needs at least one cron expression or an interval");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "1m", "overlap": "wait"})"),
            "/overlap overlap must be skip, queue, cancel or allow, not \"wait\"");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "1m", "catch_up": true})"),
            "/catch_up catch_up must be none, one or all, not true");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "1m", "catchup_window": "0s"})"),
            "/catchup_window catchup_window must be positive");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "1m", "catchup_window": "-5m"})"),
            "/catchup_window catchup_window must be positive");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "1m", "catchup_window": "9000h"})"),
            "/catchup_window catchup_window 9000h is above the maximum of 8784h");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "1m", "jitter": "-1s"})"),
            "/jitter jitter must not be negative");
  EXPECT_EQ(schedule_errors_of(R"({"interval": "2s", "jitter": "5s"})"),
            "/jitter jitter 5s is larger than the interval 2s");
  EXPECT_EQ(schedule_errors_of(R"([1])"), " a schedule must be a map with cron or interval");
  EXPECT_EQ(
      schedule_errors_of(R"({"cron": ["@daily", "@daily", "@daily", "@daily", "@daily", "@daily",
      "@daily", "@daily", "@daily", "@daily", "@daily", "@daily", "@daily", "@daily", "@daily",
      "@daily", "@daily"]})"),
      "/cron cron has more than 16 expressions");
}

TEST(ScheduleSpec, AZoneIsCheckedForItsFormOnlyWithoutTheDatabase) {
  EXPECT_TRUE(
      parse_schedule(Json::parse(R"({"cron": "@daily", "timezone": "Europe/Paris"})"), nullptr));
  EXPECT_EQ(
      joined_messages(
          parse_schedule(Json::parse(R"({"cron": "@daily", "timezone": "a b"})"), nullptr).error()),
      "timezone: unknown IANA time zone: a b");
  ScheduleSpec spec;
  spec.cron = {"@daily"};
  spec.timezone = "Europe/Paris";
  EXPECT_EQ(Schedule::compile(spec, nullptr).error(),
            "timezone: unknown IANA time zone: Europe/Paris");
  spec.interval_ms = 10;
  EXPECT_EQ(Schedule::compile(spec, test::zoneinfo()).error(),
            "interval 10ms is below the minimum of 1s");
}

TEST(Schedule, AnIntervalCountsFromItsAnchor) {
  const auto schedule = compiled_schedule(R"({"interval": "30m"})");
  const std::int64_t anchor = schedule_ms("2024-05-01T10:07:00Z");
  EXPECT_EQ(schedule.next_after(anchor, anchor - 5'000'000), schedule_ms("2024-05-01T10:37:00Z"));
  EXPECT_EQ(schedule.next_after(anchor, anchor), schedule_ms("2024-05-01T10:37:00Z"));
  EXPECT_EQ(schedule.next_after(anchor, schedule_ms("2024-05-01T10:37:00Z")),
            schedule_ms("2024-05-01T11:07:00Z"));
  EXPECT_EQ(schedule.next_after(anchor, schedule_ms("2024-05-02T00:00:00Z")),
            schedule_ms("2024-05-02T00:07:00Z"));
  EXPECT_EQ(schedule.next_after(anchor, -1), std::nullopt);
}

TEST(Schedule, CronsAndTheIntervalCombineAsAUnion) {
  const auto schedule = compiled_schedule(
      R"({"cron": ["0 12 * * *", "0 0 * * *"], "interval": "5h", "timezone": "UTC"})");
  const std::int64_t anchor = schedule_ms("2024-05-01T01:00:00Z");
  std::vector<std::int64_t> seen;
  for (auto at = schedule.next_after(anchor, anchor); seen.size() < 6;
       at = schedule.next_after(anchor, *at)) {
    seen.push_back(*at);
  }
  EXPECT_EQ(seen, (std::vector<std::int64_t>{
                      schedule_ms("2024-05-01T06:00:00Z"), schedule_ms("2024-05-01T11:00:00Z"),
                      schedule_ms("2024-05-01T12:00:00Z"), schedule_ms("2024-05-01T16:00:00Z"),
                      schedule_ms("2024-05-01T21:00:00Z"), schedule_ms("2024-05-02T00:00:00Z")}));
  ScheduleSpec spec;
  spec.cron = {"0 9 * * *"};
  spec.timezone = "America/New_York";
  EXPECT_EQ(*next_fire_after(spec, 0, schedule_ms("2024-07-01T00:00:00Z"), test::zoneinfo()),
            schedule_ms("2024-07-01T13:00:00Z"));
}

TEST(Schedule, JitterIsDeterministicAndWithinItsBound) {
  EXPECT_EQ(jitter_delay_ms("t1", 1000, 0), 0);
  std::set<std::int64_t> delays;
  for (std::int64_t i = 0; i < 200; ++i) {
    const auto delay = jitter_delay_ms("t1", i * 60'000, 5'000);
    EXPECT_GE(delay, 0);
    EXPECT_LT(delay, 5'000);
    EXPECT_EQ(delay, jitter_delay_ms("t1", i * 60'000, 5'000));
    delays.insert(delay);
  }
  EXPECT_GT(delays.size(), 150u);  // spread, not a handful of values
  EXPECT_NE(jitter_delay_ms("t1", 60'000, 1'000'000), jitter_delay_ms("t2", 60'000, 1'000'000));
}

// A plan as text: "fire A B … | skipped N first..last | considered C[ more]", instants as
// minutes after `base`.
std::string plan_text(const CatchUpPlan& plan, std::int64_t base) {
  const auto minutes = [&](std::int64_t t) {
    return std::to_string((t - base) / 60'000) + ((t - base) % 60'000 ? "+" : "");
  };
  std::string out = "fire";
  for (const auto& f : plan.fire) out += " " + minutes(f.instant_ms);
  out += " | skipped " + std::to_string(plan.skipped.count) + (plan.skipped.count_exact ? "" : "+");
  if (plan.skipped.count > 0)
    out += " " + minutes(plan.skipped.first_ms) + ".." + minutes(plan.skipped.last_ms);
  out += " | considered " + minutes(plan.considered_ms) + (plan.more ? " more" : "");
  return out;
}

std::string planned_catch_up(const char* json, std::int64_t considered_offset_ms,
                             std::int64_t now_offset_ms) {
  const auto base = schedule_ms("2024-05-01T10:00:00Z");
  const auto schedule = compiled_schedule(json);
  CatchUpRequest request{"t", base, base + considered_offset_ms, base + now_offset_ms,
                         kSchedulerTickMs};
  return plan_text(plan_catch_up(schedule, request), base);
}

constexpr std::int64_t kPlanMinuteMs = 60'000;

TEST(ScheduleCatchUp, OnTimeEveryPolicyFiresTheInstant) {
  for (const auto* policy : {"none", "one", "all"}) {
    const std::string json = std::string(R"({"cron": "* * * * *", "catch_up": ")") + policy + "\"}";
    EXPECT_EQ(planned_catch_up(json.c_str(), 0, kPlanMinuteMs + 500),
              "fire 1 | skipped 0 | considered 1+")
        << policy;
  }
  EXPECT_EQ(planned_catch_up(R"({"cron": "* * * * *"})", 0, 30'000),
            "fire | skipped 0 | considered 0+");
  EXPECT_EQ(planned_catch_up(R"({"cron": "* * * * *"})", 5 * kPlanMinuteMs, 5 * kPlanMinuteMs),
            "fire | skipped 0 | considered 5");
}

// catch_up none fires the instant that falls due now: its due time is the instant plus its
// jitter (measured from the instant, a jitter over a tick skipped every instant, as the
// simulator's workflow_triggers found), and what is due now is what fell due since the
// scheduler's previous tick, which may be more than a tick ago.
TEST(ScheduleCatchUp, NoneFiresAnInstantWhenItFallsDueWithItsJitter) {
  const auto base = schedule_ms("2024-05-01T10:00:00Z");
  const std::int64_t jitter = jitter_delay_ms("t", base + kPlanMinuteMs, 30'000);
  ASSERT_GT(jitter, kSchedulerTickMs);
  const char* json = R"({"interval": "1m", "jitter": "30s", "catch_up": "none"})";
  EXPECT_EQ(planned_catch_up(json, 0, kPlanMinuteMs + jitter + 500),
            "fire 1 | skipped 0 | considered 1+");
  EXPECT_EQ(planned_catch_up(json, 0, kPlanMinuteMs + jitter + 1'500),
            "fire | skipped 1 1..1 | considered 1+");
  // A tick that came 1.3 s after the previous one: the instant fell due since, and fires.
  const auto schedule = compiled_schedule(R"({"interval": "1m", "catch_up": "none"})");
  CatchUpRequest late{"t", base, base, base + kPlanMinuteMs + 1'200, 1'300};
  EXPECT_EQ(plan_text(plan_catch_up(schedule, late), base), "fire 1 | skipped 0 | considered 1+");
}

TEST(ScheduleCatchUp, AnHourDownWithATenMinuteWindow) {
  const std::int64_t now = 60 * kPlanMinuteMs + 30'000;
  EXPECT_EQ(planned_catch_up(R"({"cron": "* * * * *", "catch_up": "one"})", 0, now),
            "fire 60 | skipped 59 1..59 | considered 60+");
  EXPECT_EQ(planned_catch_up(R"({"cron": "* * * * *", "catch_up": "none"})", 0, now),
            "fire | skipped 60 1..60 | considered 60+");
  // The window runs from 50:30: instants 51 … 60 fire.
  EXPECT_EQ(planned_catch_up(R"({"cron": "* * * * *", "catch_up": "all"})", 0, now),
            "fire 51 52 53 54 55 56 57 58 59 60 | skipped 50 1..50 | considered 60+");
  EXPECT_EQ(
      planned_catch_up(R"({"interval": "1m", "catch_up": "all", "catchup_window": "3m"})", 0, now),
      "fire 58 59 60 | skipped 57 1..57 | considered 60+");
  EXPECT_EQ(
      planned_catch_up(R"({"interval": "1m", "catch_up": "one", "catchup_window": "10s"})", 0, now),
      "fire | skipped 60 1..60 | considered 60+");
}

TEST(ScheduleCatchUp, AYearDownOnAPerSecondScheduleIsBounded) {
  const auto base = schedule_ms("2024-05-01T10:00:00Z");
  const auto schedule =
      compiled_schedule(R"({"interval": "1s", "catch_up": "all", "jitter": "500ms"})");
  constexpr std::int64_t kYearMs = 366LL * 24 * 3'600'000;
  CatchUpRequest request{"t", base, base, base + kYearMs, kSchedulerTickMs};
  auto plan = plan_catch_up(schedule, request);
  ASSERT_EQ(plan.fire.size(), kCatchUpFiringsMax);
  EXPECT_TRUE(plan.more);
  // The window is the last ten minutes: 600 instants, the first 100 of them now.
  const std::int64_t window_first = base + kYearMs - 600'000;
  EXPECT_EQ(plan.fire.front().instant_ms, window_first);
  EXPECT_EQ(plan.fire.back().instant_ms, window_first + 99'000);
  EXPECT_EQ(plan.considered_ms, plan.fire.back().instant_ms);
  EXPECT_EQ(plan.skipped.count, kYearMs / 1000 - 601);
  EXPECT_TRUE(plan.skipped.count_exact);
  EXPECT_EQ(plan.skipped.first_ms, base + 1000);
  EXPECT_EQ(plan.skipped.last_ms, window_first - 1000);
  for (const auto& f : plan.fire) {
    EXPECT_GE(f.due_ms, f.instant_ms);
    EXPECT_LT(f.due_ms, f.instant_ms + 500);
    EXPECT_EQ(f.due_ms - f.instant_ms, jitter_delay_ms("t", f.instant_ms, 500));
  }
  // The next call goes on where this one stopped, skipping nothing.
  request.considered_ms = plan.considered_ms;
  plan = plan_catch_up(schedule, request);
  EXPECT_EQ(plan.fire.front().instant_ms, window_first + 100'000);
  EXPECT_EQ(plan.skipped.count, 0);
  const auto one = compiled_schedule(R"({"interval": "1s"})");
  request.considered_ms = base;
  plan = plan_catch_up(one, request);
  ASSERT_EQ(plan.fire.size(), 1u);
  EXPECT_EQ(plan.fire[0].instant_ms, base + kYearMs);
  EXPECT_EQ(plan.skipped.count, kYearMs / 1000 - 1);
}

TEST(ScheduleCatchUp, AYearDownOnAPerMinuteCronCountsUpToItsBound) {
  const auto base = schedule_ms("2024-05-01T10:00:00Z");
  const auto schedule = compiled_schedule(R"({"cron": "* * * * *", "timezone": "Europe/London"})");
  constexpr std::int64_t kYearMs = 365LL * 24 * 3'600'000;
  const CatchUpRequest request{"t", base, base, base + kYearMs + 1, kSchedulerTickMs};
  const auto plan = plan_catch_up(schedule, request);
  ASSERT_EQ(plan.fire.size(), 1u);
  EXPECT_EQ(plan.fire[0].instant_ms, base + kYearMs);
  EXPECT_EQ(plan.skipped.count, kSkippedCountedMax);
  EXPECT_FALSE(plan.skipped.count_exact);
  EXPECT_EQ(plan.skipped.first_ms, base + kPlanMinuteMs);
  EXPECT_EQ(plan.skipped.last_ms, base + kYearMs - kPlanMinuteMs);
}

TEST(ScheduleCatchUp, LatestInstantSearchesBySplitting) {
  const auto schedule = compiled_schedule(R"({"cron": "0 0 29 2 *"})");
  EXPECT_EQ(latest_instant(schedule, 0, schedule_ms("2020-01-01T00:00:00Z"),
                           schedule_ms("2031-01-01T00:00:00Z")),
            schedule_ms("2028-02-29T00:00:00Z"));
  EXPECT_EQ(latest_instant(schedule, 0, schedule_ms("2024-03-01T00:00:00Z"),
                           schedule_ms("2028-02-28T00:00:00Z")),
            std::nullopt);
}

}  // namespace
}  // namespace reliant::triggers
