// Fuzz target: any bytes as a cron expression (the first line, and the whole text) and as a
// schedule's JSON parse to a value or to an error, never a crash. An expression that parses
// answers next-fire questions in UTC and in zones with daylight-saving switches — each fire
// after its instant, in order, and found again from just before it; a schedule that parses
// compiles, and plans a catch-up within its bounds.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "base/digest.h"
#include "base/json_parse.h"
#include "core/triggers/catch_up.h"
#include "core/triggers/cron.h"
#include "core/triggers/schedule.h"

namespace {

using namespace reliant;

void put_big_endian(std::string& out, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>(value >> shift & 0xFF);
}

// A TZif file (version 2) with no transitions and `rule` as its footer: a zone that follows the
// POSIX rule at every instant. Made here, so that the fuzzer reads no zone database.
std::string rule_only_tzif(std::string_view rule) {
  std::string block;
  for (int i = 0; i < 2; ++i) {
    block += "TZif2" + std::string(15, '\0');
    for (std::uint32_t count : {0u, 0u, 0u, 0u, 1u, 4u}) put_big_endian(block, count);
    put_big_endian(block, 0);       // the one type's offset (unused past the footer)
    block += std::string(2, '\0');  // isdst, abbreviation index
    block += std::string("UTC") + '\0';
  }
  return block + "\n" + std::string(rule) + "\n";
}

std::optional<std::string> fuzz_zone(std::string_view name) {
  if (name == "America/New_York") return rule_only_tzif("EST5EDT,M3.2.0,M11.1.0");
  // Lord Howe's half-hour switch.
  if (name == "Australia/Lord_Howe") return rule_only_tzif("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0");
  return std::nullopt;
}

constexpr std::int64_t kFromMs = 1'577'836'800'000;  // 2020-01-01T00:00:00Z
constexpr std::int64_t kSpanMs = 10LL * 365 * 24 * 3'600'000;

void fire_in_order(const triggers::CronExpr& expr, std::uint64_t seed) {
  for (const char* zone : {"", "America/New_York", "Australia/Lord_Howe"}) {
    auto clock = triggers::ZoneClock::load(zone, fuzz_zone);
    RELIANT_ASSERT(clock.has_value());
    std::int64_t at = kFromMs + static_cast<std::int64_t>(seed % kSpanMs);
    for (int i = 0; i < 3; ++i) {
      auto next = expr.next_fire_ms(at, *clock);
      if (!next) {
        RELIANT_ASSERT(!expr.can_fire());
        break;
      }
      RELIANT_ASSERT(*next > at);
      RELIANT_ASSERT(*expr.next_fire_ms(*next - 1, *clock) == *next);
      at = *next;
    }
  }
}

void plan_schedule(const nlohmann::json& json, std::uint64_t seed) {
  auto spec = triggers::parse_schedule(json, fuzz_zone);
  if (!spec) {
    RELIANT_ASSERT(!spec.error().empty());
    return;
  }
  RELIANT_ASSERT(*triggers::parse_schedule(triggers::to_json(*spec), fuzz_zone) == *spec);
  auto schedule = triggers::Schedule::compile(*spec, fuzz_zone);
  RELIANT_ASSERT(schedule.has_value());
  const std::int64_t anchor = kFromMs + static_cast<std::int64_t>(seed % kSpanMs);
  const std::int64_t now = anchor + static_cast<std::int64_t>((seed >> 20) % (400LL * 86'400'000));
  const triggers::CatchUpRequest request{"fuzz", anchor, anchor, now, triggers::kSchedulerTickMs};
  const auto plan = triggers::plan_catch_up(*schedule, request);
  RELIANT_ASSERT(plan.fire.size() <= triggers::kCatchUpFiringsMax);
  for (std::size_t i = 0; i < plan.fire.size(); ++i) {
    RELIANT_ASSERT(plan.fire[i].instant_ms > anchor && plan.fire[i].instant_ms <= now);
    RELIANT_ASSERT(i == 0 || plan.fire[i].instant_ms > plan.fire[i - 1].instant_ms);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::uint64_t seed = digest64(text);
  for (const auto candidate : {text.substr(0, text.find('\n')), text}) {
    auto expr = triggers::CronExpr::parse(candidate);
    if (!expr) {
      RELIANT_ASSERT(!expr.error().empty());
      continue;
    }
    fire_in_order(*expr, seed);
  }
  const auto json = parse_json_or_discarded(text);
  if (!json.is_discarded()) plan_schedule(json, seed);
  return 0;
}
