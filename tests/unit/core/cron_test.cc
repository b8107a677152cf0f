// Cron expressions: every form of each field, the day-of-month/day-of-week rule, leap days,
// expressions that never fire, daylight-saving switches in New York and London, and each
// mistake's message with its column.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/cel/timestamps.h"
#include "core/cel/value.h"
#include "core/triggers/cron.h"
#include "unit/support/zoneinfo.h"

namespace reliant::triggers {
namespace {

std::int64_t cron_ms(const char* rfc3339) { return cel::parse_timestamp(rfc3339)->seconds * 1000; }

std::string cron_utc(std::int64_t instant_ms) {
  return cel::format_timestamp(cel::Timestamp{instant_ms / 1000, 0});
}

ZoneClock cron_zone(const char* name) {
  auto clock = ZoneClock::load(name, test::zoneinfo());
  EXPECT_TRUE(clock) << clock.error();
  return clock ? *clock : ZoneClock();
}

// The next `count` fires after `after` in `zone_name`, as UTC text.
std::vector<std::string> cron_fires(const char* expression, const char* after, int count = 1,
                                    const char* zone_name = "") {
  auto expr = CronExpr::parse(expression);
  EXPECT_TRUE(expr) << expr.error();
  if (!expr) return {};
  const auto clock = cron_zone(zone_name);
  std::vector<std::string> out;
  std::int64_t at = cron_ms(after);
  for (int i = 0; i < count; ++i) {
    auto next = expr->next_fire_ms(at, clock);
    if (!next) return {next.error()};
    out.push_back(cron_utc(*next));
    at = *next;
  }
  return out;
}

std::string cron_error_of(const char* expression) {
  auto expr = CronExpr::parse(expression);
  return expr ? "ok" : expr.error();
}

using Fires = std::vector<std::string>;

TEST(Cron, ReadsEveryFormOfAField) {
  EXPECT_EQ(cron_fires("*/15 * * * *", "2024-05-01T10:07:00Z", 3),
            (Fires{"2024-05-01T10:15:00Z", "2024-05-01T10:30:00Z", "2024-05-01T10:45:00Z"}));
  EXPECT_EQ(cron_fires("5/20 * * * *", "2024-05-01T10:00:00Z", 3),
            (Fires{"2024-05-01T10:05:00Z", "2024-05-01T10:25:00Z", "2024-05-01T10:45:00Z"}));
  EXPECT_EQ(cron_fires("10-30/10 8 * * *", "2024-05-01T08:15:00Z", 3),
            (Fires{"2024-05-01T08:20:00Z", "2024-05-01T08:30:00Z", "2024-05-02T08:10:00Z"}));
  EXPECT_EQ(cron_fires("0 9,17 * * *", "2024-05-01T12:00:00Z", 2),
            (Fires{"2024-05-01T17:00:00Z", "2024-05-02T09:00:00Z"}));
  // 2024-05-03 is a Friday.
  EXPECT_EQ(cron_fires("0 9 * * MON-FRI", "2024-05-03T10:00:00Z"), (Fires{"2024-05-06T09:00:00Z"}));
  EXPECT_EQ(cron_fires("0 0 1 jan,Jul *", "2024-02-01T00:00:00Z", 2),
            (Fires{"2024-07-01T00:00:00Z", "2025-01-01T00:00:00Z"}));
  EXPECT_EQ(cron_fires("30 2 1-3 * *", "2024-05-02T03:00:00Z", 2),
            (Fires{"2024-05-03T02:30:00Z", "2024-06-01T02:30:00Z"}));
}

TEST(Cron, SevenAndZeroAreSunday) {
  // 2024-05-05 is a Sunday.
  EXPECT_EQ(cron_fires("0 0 * * 7", "2024-05-01T00:00:00Z"), (Fires{"2024-05-05T00:00:00Z"}));
  EXPECT_EQ(cron_fires("0 0 * * 0", "2024-05-01T00:00:00Z"), (Fires{"2024-05-05T00:00:00Z"}));
  EXPECT_EQ(cron_fires("0 0 * * sun", "2024-05-01T00:00:00Z"), (Fires{"2024-05-05T00:00:00Z"}));
  EXPECT_EQ(cron_fires("0 0 * * 5-7", "2024-05-01T00:00:00Z", 4),
            (Fires{"2024-05-03T00:00:00Z", "2024-05-04T00:00:00Z", "2024-05-05T00:00:00Z",
                   "2024-05-10T00:00:00Z"}));
}

TEST(Cron, FiresStrictlyAfterTheInstant) {
  EXPECT_EQ(cron_fires("0 * * * *", "2024-05-01T10:00:00Z"), (Fires{"2024-05-01T11:00:00Z"}));
  auto expr = CronExpr::parse("0 * * * *");
  ASSERT_TRUE(expr);
  EXPECT_EQ(*expr->next_fire_ms(cron_ms("2024-05-01T10:00:00Z") - 1, ZoneClock()),
            cron_ms("2024-05-01T10:00:00Z"));
  EXPECT_EQ(*expr->next_fire_ms(cron_ms("2024-05-01T10:00:00Z") + 1, ZoneClock()),
            cron_ms("2024-05-01T11:00:00Z"));
}

TEST(Cron, DayOfMonthOrDayOfWeekWhenBothAreRestricted) {
  // The 13th of each month, and every Friday (2024-09-13 is both).
  EXPECT_EQ(cron_fires("0 0 13 * FRI", "2024-09-01T00:00:00Z", 4),
            (Fires{"2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z",
                   "2024-09-27T00:00:00Z"}));
  EXPECT_EQ(cron_fires("0 0 13 * FRI", "2024-09-27T00:00:00Z", 2),
            (Fires{"2024-10-04T00:00:00Z", "2024-10-11T00:00:00Z"}));
  EXPECT_EQ(cron_fires("0 0 13 * FRI", "2024-10-11T00:00:00Z"), (Fires{"2024-10-13T00:00:00Z"}));
  // One of them a bare `*`: the other decides alone.
  EXPECT_EQ(cron_fires("0 0 13 * *", "2024-09-01T00:00:00Z"), (Fires{"2024-09-13T00:00:00Z"}));
  EXPECT_EQ(cron_fires("0 0 * * FRI", "2024-09-01T00:00:00Z"), (Fires{"2024-09-06T00:00:00Z"}));
  // `*/10` is a restriction (POSIX): the 1st, 11th, 21st and 31st, or a Monday.
  EXPECT_EQ(cron_fires("0 0 */10 * MON", "2024-09-01T00:00:00Z", 3),
            (Fires{"2024-09-02T00:00:00Z", "2024-09-09T00:00:00Z", "2024-09-11T00:00:00Z"}));
}

TEST(Cron, LeapDays) {
  EXPECT_EQ(cron_fires("0 0 29 2 *", "2024-03-01T00:00:00Z", 2),
            (Fires{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}));
  // 2100 is not a leap year: eight years between two Feb 29ths, inside the search.
  EXPECT_EQ(cron_fires("0 12 29 2 *", "2096-03-01T00:00:00Z"), (Fires{"2104-02-29T12:00:00Z"}));
  EXPECT_EQ(cron_fires("59 23 28-29 2 *", "2023-02-28T23:59:00Z"), (Fires{"2024-02-28T23:59:00Z"}));
}

TEST(Cron, AnExpressionThatNeverFiresEndsItsSearch) {
  EXPECT_EQ(cron_fires("0 0 31 2 *", "2024-01-01T00:00:00Z"),
            (Fires{"\"0 0 31 2 *\" does not fire within 10 years"}));
  EXPECT_FALSE(CronExpr::parse("0 0 31 2 *")->can_fire());
  EXPECT_FALSE(CronExpr::parse("0 0 30,31 2 *")->can_fire());
  EXPECT_FALSE(CronExpr::parse("0 0 31 4,6,9,11 *")->can_fire());
  EXPECT_TRUE(CronExpr::parse("0 0 29 2 *")->can_fire());
  EXPECT_TRUE(CronExpr::parse("0 0 31 2 MON")->can_fire());  // Mondays in February
  EXPECT_TRUE(CronExpr::parse("0 0 31 * *")->can_fire());
}

TEST(Cron, MacrosAreTheirFiveFieldForms) {
  EXPECT_EQ(cron_fires("@hourly", "2024-05-01T10:30:00Z"), (Fires{"2024-05-01T11:00:00Z"}));
  EXPECT_EQ(cron_fires("@daily", "2024-05-01T10:30:00Z"), (Fires{"2024-05-02T00:00:00Z"}));
  EXPECT_EQ(cron_fires("@MIDNIGHT", "2024-05-01T10:30:00Z"), (Fires{"2024-05-02T00:00:00Z"}));
  EXPECT_EQ(cron_fires("@weekly", "2024-05-01T10:30:00Z"), (Fires{"2024-05-05T00:00:00Z"}));
  EXPECT_EQ(cron_fires("@monthly", "2024-05-01T10:30:00Z"), (Fires{"2024-06-01T00:00:00Z"}));
  EXPECT_EQ(cron_fires("@yearly", "2024-05-01T10:30:00Z"), (Fires{"2025-01-01T00:00:00Z"}));
  EXPECT_EQ(cron_fires("@annually", "2024-05-01T10:30:00Z"), (Fires{"2025-01-01T00:00:00Z"}));
  EXPECT_EQ(CronExpr::parse(" @daily ")->text(), " @daily ");
}

TEST(Cron, EachMistakeSaysWhatAndWhere) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"* * * * * *",
       "want 5 fields (minute hour day-of-month month day-of-week), got 6 in \"* * * * * *\""},
      {"0 0 0 * * * 2024",
       "want 5 fields (minute hour day-of-month month day-of-week), got 7 in \"0 0 0 * * * "
       "2024\""},
      {"", "want 5 fields (minute hour day-of-month month day-of-week), got 0 in \"\""},
      {"* * *", "want 5 fields (minute hour day-of-month month day-of-week), got 3 in \"* * *\""},
      {"0-61 * * * *", "minute: 61 is out of range 0-59 at column 3"},
      {"0 24 * * *", "hour: 24 is out of range 0-23 at column 3"},
      {"0 0 0 * *", "day-of-month: 0 is out of range 1-31 at column 5"},
      {"0 0 32 * *", "day-of-month: 32 is out of range 1-31 at column 5"},
      {"0 0 * 13 *", "month: 13 is out of range 1-12 at column 7"},
      {"0 0 * * 8", "day-of-week: 8 is out of range 0-7 at column 9"},
      {"99999999999 * * * *", "minute: 99999999999 is out of range 0-59 at column 1"},
      {"0 0 * FOO *", "month: unknown name \"FOO\" (JAN-DEC or 1-12) at column 7"},
      {"0 0 * * MONDAY", "day-of-week: unknown name \"MONDAY\" (SUN-SAT or 0-7) at column 9"},
      {"MON * * * *", "minute: \"MON\" is not a number at column 1"},
      {"0 0 L * *", "day-of-month: \"L\" is not a number at column 5"},
      {"30-10 * * * *", "minute: range 30-10 runs backwards at column 1"},
      {"0 0 * * FRI-MON", "day-of-week: range FRI-MON runs backwards at column 9"},
      {"*/0 * * * *", "minute: step 0 is out of range 1-59 at column 3"},
      {"0 */24 * * *", "hour: step 24 is out of range 1-23 at column 5"},
      {"*/ * * * *", "minute: a step needs a number after / at column 3"},
      {"1,,2 * * * *", "minute: empty list element at column 3"},
      {"1, * * * *", "minute: empty list element at column 3"},
      {"1- * * * *", "minute: a value is missing at column 3"},
      {"? * * * *", "minute: unexpected \"?\" at column 1"},
      {"0 0 * * MON#2", "day-of-week: unexpected \"#\" at column 12"},
      {"0 0 1-5x * *", "day-of-month: unexpected \"x\" at column 8"},
      {"0 0 * * 1/2/3", "day-of-week: unexpected \"/\" at column 12"},
      {"0 \x01 * * *", "hour: unexpected byte 0x01 at column 3"},
      {"@every 5m",
       "@every is not supported: a schedule's interval repeats at a fixed rate (interval: 30m)"},
      {"@reboot", "@reboot is not supported: a schedule has no boot"},
      {"@fortnightly",
       "unknown macro \"@fortnightly\" (@yearly, @annually, @monthly, @weekly, @daily, "
       "@midnight or @hourly)"},
      {"@daily 5", "@daily takes no fields"},
  };
  for (const auto& [expression, message] : cases) {
    EXPECT_EQ(cron_error_of(expression), message) << expression;
  }
  EXPECT_EQ(cron_error_of(std::string(300, '*').c_str()),
            "a cron expression is at most 256 characters");
}

TEST(Cron, InstantsOutsideTheRangeAreRefused) {
  auto expr = CronExpr::parse("* * * * *");
  ASSERT_TRUE(expr);
  EXPECT_EQ(expr->next_fire_ms(-1, ZoneClock()).error(),
            "instant -1 ms is outside the years 1970 to 9999");
  EXPECT_EQ(*expr->next_fire_ms(0, ZoneClock()), 60'000);
}

TEST(CronZones, ReadsZonesThroughTheLoader) {
  EXPECT_EQ(ZoneClock::load("Mars/Olympus", test::zoneinfo()).error(),
            "unknown IANA time zone: Mars/Olympus");
  EXPECT_EQ(ZoneClock::load("Europe/Paris", nullptr).error(),
            "unknown IANA time zone: Europe/Paris");
  EXPECT_EQ(ZoneClock::load("", nullptr)->offset_s(0), 0);
  EXPECT_EQ(ZoneClock::load("UTC", nullptr)->offset_s(0), 0);
  EXPECT_EQ(ZoneClock::load("+05:30", nullptr)->offset_s(0), 19800);
  EXPECT_EQ(cron_fires("0 9 * * *", "2024-05-01T00:00:00Z", 1, "Asia/Kolkata"),
            (Fires{"2024-05-01T03:30:00Z"}));
  EXPECT_EQ(next_cron_fire_ms("0 9 * * *", "Asia/Tokyo", cron_ms("2024-05-01T00:00:00Z"),
                              test::zoneinfo())
                .value(),
            cron_ms("2024-05-02T00:00:00Z"));
}

TEST(CronZones, NewYorkSpringForwardFiresOnceAfterTheGap) {
  // 2024-03-10 02:00 EST became 03:00 EDT (07:00Z): 02:30 does not exist that day.
  EXPECT_EQ(cron_fires("30 2 * * *", "2024-03-09T12:00:00Z", 3, "America/New_York"),
            (Fires{"2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z", "2024-03-12T06:30:00Z"}));
  // Four matches inside the gap fire once, at its end.
  EXPECT_EQ(cron_fires("*/15 2 * * *", "2024-03-10T06:00:00Z", 2, "America/New_York"),
            (Fires{"2024-03-10T07:00:00Z", "2024-03-11T06:00:00Z"}));
  // A match at the gap's end and one inside it: still once.
  EXPECT_EQ(cron_fires("30 2,3 * * *", "2024-03-10T06:00:00Z", 3, "America/New_York"),
            (Fires{"2024-03-10T07:00:00Z", "2024-03-10T07:30:00Z", "2024-03-11T06:30:00Z"}));
  EXPECT_EQ(cron_fires("0 * * * *", "2024-03-10T05:30:00Z", 3, "America/New_York"),
            (Fires{"2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z", "2024-03-10T08:00:00Z"}));
}

TEST(CronZones, NewYorkFallBackFiresTheFirstOccurrenceOnly) {
  // 2024-11-03 02:00 EDT became 01:00 EST (06:00Z): 01:00-01:59 happens twice.
  EXPECT_EQ(cron_fires("30 1 * * *", "2024-11-03T00:00:00Z", 2, "America/New_York"),
            (Fires{"2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z"}));
  EXPECT_EQ(cron_fires("0 * * * *", "2024-11-03T04:30:00Z", 3, "America/New_York"),
            (Fires{"2024-11-03T05:00:00Z", "2024-11-03T07:00:00Z", "2024-11-03T08:00:00Z"}));
  // Asked from inside the second pass: its minutes have fired already.
  EXPECT_EQ(cron_fires("* * * * *", "2024-11-03T06:10:00Z", 1, "America/New_York"),
            (Fires{"2024-11-03T07:00:00Z"}));
  EXPECT_EQ(cron_fires("30 1 * * *", "2024-11-03T06:10:00Z", 1, "America/New_York"),
            (Fires{"2024-11-04T06:30:00Z"}));
}

TEST(CronZones, LondonSwitches) {
  // 2024-03-31 01:00 GMT became 02:00 BST (01:00Z); 2024-10-27 02:00 BST became 01:00 GMT.
  EXPECT_EQ(cron_fires("30 1 * * *", "2024-03-30T12:00:00Z", 2, "Europe/London"),
            (Fires{"2024-03-31T01:00:00Z", "2024-04-01T00:30:00Z"}));
  EXPECT_EQ(cron_fires("30 1 * * *", "2024-10-26T12:00:00Z", 2, "Europe/London"),
            (Fires{"2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"}));
  EXPECT_EQ(cron_fires("0 9 * * MON-FRI", "2024-10-25T12:00:00Z", 1, "Europe/London"),
            (Fires{"2024-10-28T09:00:00Z"}));
}

TEST(CronZones, LocalTimesMapToTheirFirstInstant) {
  const auto york = cron_zone("America/New_York");
  const auto local = [](const char* t) { return cron_ms(t) / 1000; };  // a wall clock read as UTC
  EXPECT_EQ(york.first_instant_s(local("2024-03-10T02:30:00Z")), local("2024-03-10T07:00:00Z"));
  EXPECT_EQ(york.first_instant_s(local("2024-11-03T01:30:00Z")), local("2024-11-03T05:30:00Z"));
  EXPECT_EQ(york.first_instant_s(local("2024-07-01T12:00:00Z")), local("2024-07-01T16:00:00Z"));
  EXPECT_EQ(york.local_s(local("2024-11-03T06:30:00Z")), local("2024-11-03T01:30:00Z"));
}

}  // namespace
}  // namespace reliant::triggers
