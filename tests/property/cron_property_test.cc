// Properties of cron evaluation (core/triggers/cron.h): for random expressions, zones and
// instants (half of them near a daylight-saving switch), the next fire is what a minute-by-minute
// scan of the zone's wall clock finds — a local minute fires at its first occurrence, a minute a
// forward switch skipped fires once at the switch — and next fires only move forward as the instant
// does.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/triggers/cron.h"
#include "property/property_check.h"
#include "unit/support/zoneinfo.h"

namespace reliant::property {
namespace {

using triggers::CronExpr;
using triggers::ZoneClock;

constexpr std::int64_t kCronMinuteMs = 60'000;
// Instants from 2020 to 2027: the zones' rules of today, and some of their history.
constexpr std::int64_t kCronFromMs = 1'577'836'800'000;  // 2020-01-01T00:00:00Z
constexpr std::int64_t kCronSpanMs = 7LL * 365 * 24 * 3'600'000;
// The scan's reach; the generator keeps expressions dense enough that fires come sooner.
constexpr std::int64_t kCronScanMs = 3LL * 366 * 24 * 3'600'000;

int cron_uniform(int min, int max) {
  return *rc::gen::resize(rc::kNominalSize, rc::gen::inRange(min, max));
}

// One field: `*`, a value, a range, a step or a list of them, within [min, max].
std::string gen_cron_field(int min, int max, bool sparse_ok) {
  const int kind = cron_uniform(0, sparse_ok ? 7 : 5);
  const auto value = [&] { return std::to_string(cron_uniform(min, max + 1)); };
  switch (kind) {
    case 0:
    case 1:
      return "*";
    case 2: {
      const int a = cron_uniform(min, max + 1), b = cron_uniform(a, max + 1);
      return std::to_string(a) + "-" + std::to_string(b);
    }
    case 3:
      return "*/" + std::to_string(cron_uniform(1, std::max(2, (max - min) / 2)));
    case 4: {
      const int a = cron_uniform(min, max + 1);
      return std::to_string(a) + "/" + std::to_string(cron_uniform(1, std::max(2, max - min)));
    }
    case 5:
      return value() + "," + value() + "," + value();
    default:
      return value();
  }
}

std::string gen_cron_expression() {
  return gen_cron_field(0, 59, true) + " " + gen_cron_field(0, 23, true) + " " +
         gen_cron_field(1, 31, true) + " " + gen_cron_field(1, 12, cron_uniform(0, 3) == 0) + " " +
         gen_cron_field(0, 7, true);
}

const char* gen_cron_zone() {
  // Both hemispheres, half-hour and quarter-hour offsets, a half-hour switch (Lord Howe), a
  // zone whose standard time is its summer (Dublin), and zones without switches.
  static const std::vector<const char*> zones = {"",
                                                 "America/New_York",
                                                 "Europe/London",
                                                 "Europe/Dublin",
                                                 "Asia/Kolkata",
                                                 "Australia/Lord_Howe",
                                                 "Pacific/Chatham",
                                                 "America/Santiago",
                                                 "Asia/Kathmandu",
                                                 "Australia/Sydney"};
  return zones[static_cast<std::size_t>(cron_uniform(0, static_cast<int>(zones.size())))];
}

// An instant to ask from: uniform over the span, or (half the time) within six hours of the
// zone's next switch, where the rules for skipped and repeated local times apply.
std::int64_t gen_cron_instant(const ZoneClock& clock) {
  std::int64_t at = kCronFromMs + *rc::gen::inRange<std::int64_t>(0, kCronSpanMs);
  if (cron_uniform(0, 2) == 0) return at;
  std::int64_t low = at / 1000, high = low;
  const std::int64_t offset = clock.offset_s(low);
  for (int day = 0; day < 400 && clock.offset_s(high) == offset; ++day) high += 86'400;
  if (clock.offset_s(high) == offset) return at;  // a zone without switches
  while (high - low > 1) {
    const std::int64_t middle = low + (high - low) / 2;
    (clock.offset_s(middle) == offset ? low : high) = middle;
  }
  RC_TAG("near a switch");
  return high * 1000 + *rc::gen::inRange<std::int64_t>(-6 * 3'600'000, 6 * 3'600'000);
}

// A zone's wall clock read minute after minute: the offset once per quarter hour when it is the
// same at both ends (no zone switches twice within fifteen minutes), else at each minute.
class CronScanClock {
 public:
  explicit CronScanClock(const ZoneClock& clock) : clock_(clock) {}
  std::int64_t local_s(std::int64_t unix_s) {
    const std::int64_t block = unix_s - ((unix_s % 900) + 900) % 900;
    if (block != block_) {
      block_ = block;
      offset_ = clock_.offset_s(block);
      constant_ = offset_ == clock_.offset_s(block + 899);
    }
    return unix_s + (constant_ ? offset_ : clock_.offset_s(unix_s));
  }

 private:
  const ZoneClock& clock_;
  std::int64_t block_ = -1;
  std::int64_t offset_ = 0;
  bool constant_ = false;
};

// The reference: the first UTC minute after `after_ms`, up to `until_ms`, at which the
// expression fires, scanning minute by minute.
std::optional<std::int64_t> scan_for_fire(const CronExpr& expr, const ZoneClock& clock,
                                          std::int64_t after_ms, std::int64_t until_ms) {
  CronScanClock wall(clock);
  std::int64_t u = (after_ms / kCronMinuteMs + 1) * kCronMinuteMs;
  std::int64_t previous = wall.local_s(u / 1000 - 60);
  for (; u <= until_ms; u += kCronMinuteMs) {
    const std::int64_t now = wall.local_s(u / 1000);
    // A forward switch: the skipped local minutes fire here, once.
    for (std::int64_t skipped = previous + 60; skipped < now; skipped += 60) {
      if (expr.matches_local(skipped)) return u;
    }
    if (expr.matches_local(now)) {
      // Only the first occurrence of a repeated local minute fires.
      bool seen = false;
      for (std::int64_t back = u - kCronMinuteMs; back >= u - 4 * 3'600'000 && !seen;
           back -= kCronMinuteMs) {
        seen = clock.local_s(back / 1000) == now;
      }
      if (!seen) return u;
    }
    previous = now;
  }
  return std::nullopt;
}

TEST(CronProperty, NextFireIsWhatAMinuteScanFinds) {
  check_property(100, [] {
    const auto text = gen_cron_expression();
    auto expr = CronExpr::parse(text);
    RC_ASSERT(expr.has_value());
    RC_PRE(expr->can_fire());
    const char* zone = gen_cron_zone();
    auto clock = ZoneClock::load(zone, test::zoneinfo());
    RC_ASSERT(clock.has_value());
    const std::int64_t after_ms = gen_cron_instant(*clock);
    const auto next = expr->next_fire_ms(after_ms, *clock);
    RC_ASSERT(next.has_value());
    RC_TAG(*next - after_ms < 24 * 3'600'000 ? "fires within a day" : "fires later");
    RC_PRE(*next - after_ms <= kCronScanMs);
    RC_ASSERT(scan_for_fire(*expr, *clock, after_ms, *next) == std::optional<std::int64_t>(*next));
  });
}

TEST(CronProperty, NextFiresMoveForwardWithTheInstant) {
  check_property(100, [] {
    auto expr = CronExpr::parse(gen_cron_expression());
    RC_ASSERT(expr.has_value());
    RC_PRE(expr->can_fire());
    auto clock = ZoneClock::load(gen_cron_zone(), test::zoneinfo());
    RC_ASSERT(clock.has_value());
    const std::int64_t a = gen_cron_instant(*clock);
    const std::int64_t b = a + *rc::gen::inRange<std::int64_t>(0, 3 * 24 * 3'600'000);
    const auto next_a = expr->next_fire_ms(a, *clock);
    const auto next_b = expr->next_fire_ms(b, *clock);
    RC_ASSERT(next_a.has_value() && next_b.has_value());
    RC_ASSERT(*next_a > a);
    RC_ASSERT(*next_a <= *next_b);
    // Nothing fires between an instant and its next fire: asking from just before it finds it.
    RC_ASSERT(*expr->next_fire_ms(*next_a - 1, *clock) == *next_a);
    RC_ASSERT(*next_a % kCronMinuteMs == 0);
  });
}

}  // namespace
}  // namespace reliant::property
