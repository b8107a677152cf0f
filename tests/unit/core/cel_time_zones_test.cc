// Time zones for the timestamp accessors: POSIX TZ rules (both hemispheres, all three date forms,
// the switch moments to the second), TZif files (transitions, the footer beyond them, version 1
// files, malformed data) and fixed offsets.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/cel/time_zones.h"
#include "core/cel/timestamps.h"

namespace reliant::cel {
namespace {

std::int64_t at(const char* rfc3339) { return parse_timestamp(rfc3339)->seconds; }

void put(std::string& out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>(value >> (8 * i) & 0xFF);
}

// A TZif file: `transitions` (time, type) between `offsets` (type 0 first), the 64-bit block of
// version 2 with `footer` after it, or only the 32-bit block of version 1.
std::string tzif(const std::vector<std::pair<std::int64_t, int>>& transitions,
                 const std::vector<std::int32_t>& offsets, const std::string& footer,
                 bool version_2 = true) {
  const auto header = [&](std::string& out, char version, bool empty) {
    out += "TZif";
    out += version;
    out += std::string(15, '\0');
    const std::uint64_t counts[6] = {0,
                                     0,
                                     0,
                                     empty ? 0 : transitions.size(),
                                     empty ? 0 : offsets.size(),
                                     empty ? 0 : offsets.size() * 4};
    for (std::uint64_t count : counts) put(out, count, 4);
  };
  const auto block = [&](std::string& out, int time_size) {
    for (const auto& [time, type] : transitions)
      put(out, static_cast<std::uint64_t>(time), time_size);
    for (const auto& [time, type] : transitions) out += static_cast<char>(type);
    for (std::size_t i = 0; i < offsets.size(); ++i) {
      put(out, static_cast<std::uint32_t>(offsets[i]), 4);
      out += std::string{'\0', static_cast<char>(i * 4)};
    }
    for (std::size_t i = 0; i < offsets.size(); ++i) out += std::string("ABC", 4);
  };
  std::string out;
  if (!version_2) {
    header(out, '\0', false);
    block(out, 4);
    return out;
  }
  header(out, '2', true);  // writers may leave the version 1 block empty
  header(out, '2', false);
  block(out, 8);
  return out + "\n" + footer + "\n";
}

TEST(CelTimeZones, PosixRulesSwitchAtTheirMoments) {
  const char* pacific = "PST8PDT,M3.2.0,M11.1.0";
  EXPECT_EQ(posix_tz_offset(pacific, at("2009-01-15T12:00:00Z")), -8 * 3600);
  EXPECT_EQ(posix_tz_offset(pacific, at("2009-07-01T12:00:00Z")), -7 * 3600);
  // 2009: from 2:00 PST on Sunday 8 March to 2:00 PDT on Sunday 1 November.
  EXPECT_EQ(posix_tz_offset(pacific, at("2009-03-08T09:59:59Z")), -8 * 3600);
  EXPECT_EQ(posix_tz_offset(pacific, at("2009-03-08T10:00:00Z")), -7 * 3600);
  EXPECT_EQ(posix_tz_offset(pacific, at("2009-11-01T08:59:59Z")), -7 * 3600);
  EXPECT_EQ(posix_tz_offset(pacific, at("2009-11-01T09:00:00Z")), -8 * 3600);
  // The southern hemisphere: daylight time spans the new year.
  const char* sydney = "AEST-10AEDT,M10.1.0,M4.1.0/3";
  EXPECT_EQ(posix_tz_offset(sydney, at("2009-01-15T00:00:00Z")), 11 * 3600);
  EXPECT_EQ(posix_tz_offset(sydney, at("2009-07-01T00:00:00Z")), 10 * 3600);
  EXPECT_EQ(posix_tz_offset(sydney, at("2009-12-31T20:00:00Z")), 11 * 3600);
  // Jn never counts 29 February: J60 is 1 March in leap years too.
  const char* julian = "EST5EDT,J60/2,J300/2";
  EXPECT_EQ(posix_tz_offset(julian, at("2008-03-01T06:59:59Z")), -5 * 3600);
  EXPECT_EQ(posix_tz_offset(julian, at("2008-03-01T07:00:00Z")), -4 * 3600);
  // n counts from 0 and does count it: day 59 of 2008 is 29 February.
  EXPECT_EQ(posix_tz_offset("EST5EDT,59/0,300", at("2008-02-29T05:00:00Z")), -4 * 3600);
  EXPECT_EQ(posix_tz_offset("EST5EDT,59/0,300", at("2008-02-29T04:59:59Z")), -5 * 3600);
  EXPECT_EQ(posix_tz_offset("<+0545>-5:45", 0), 5 * 3600 + 45 * 60);
  EXPECT_EQ(posix_tz_offset("<-03>3", 0), -3 * 3600);
  EXPECT_EQ(posix_tz_offset("UTC0", 0), 0);
  EXPECT_EQ(posix_tz_offset("CET-1CEST", at("2009-07-01T00:00:00Z")), 2 * 3600)
      << "no rule: POSIX's default";
  for (const char* malformed : {"", "PST", "P8", "PST8PDT,M13.1.0,M11.1.0", "PST8PDT,M3.2.0",
                                "PST8PDT,M3.2.0,M11.1.0/x", "<+05-5", "PST8 junk"}) {
    EXPECT_EQ(posix_tz_offset(malformed, 0), std::nullopt) << malformed;
  }
}

TEST(CelTimeZones, TzifTransitionsThenItsFooter) {
  const std::string data =
      tzif({{1000, 1}, {2000, 0}}, {-5 * 3600, -4 * 3600}, "EST5EDT,M3.2.0,M11.1.0");
  EXPECT_EQ(tzif_offset(data, 500), -5 * 3600) << "before the first transition: type 0";
  EXPECT_EQ(tzif_offset(data, 1000), -4 * 3600);
  EXPECT_EQ(tzif_offset(data, 1999), -4 * 3600);
  EXPECT_EQ(tzif_offset(data, 2000), -5 * 3600);
  EXPECT_EQ(tzif_offset(data, at("2030-07-01T00:00:00Z")), -4 * 3600) << "the footer's rule";
  EXPECT_EQ(tzif_offset(data, at("2030-01-01T00:00:00Z")), -5 * 3600);
  const std::string old = tzif({{-100, 1}}, {3600, 7200}, "", false);
  EXPECT_EQ(tzif_offset(old, -101), 3600) << "version 1: 32-bit times, no footer";
  EXPECT_EQ(tzif_offset(old, 0), 7200);
  EXPECT_EQ(tzif_offset(data.substr(0, data.size() / 2), 0), std::nullopt) << "truncated";
  EXPECT_EQ(tzif_offset("TZif", 0), std::nullopt);
  EXPECT_EQ(tzif_offset("not a zone file at all, but long enough for a header", 0), std::nullopt);
  std::string bad_index = tzif({{1000, 1}, {2000, 0}}, {0}, "UTC0");
  EXPECT_EQ(tzif_offset(bad_index, 1500), std::nullopt)
      << "a transition to a type that is not there";
}

TEST(CelTimeZones, ResolvesNamesOffsetsAndUtc) {
  const TimeZoneLoader load = [](std::string_view name) -> std::optional<std::string> {
    if (name == "Test/Zone") return tzif({}, {3600}, "<+01>-1");
    if (name == "Test/Broken") return std::string("TZif2 and nothing else");
    return std::nullopt;
  };
  EXPECT_EQ(utc_offset("Test/Zone", 0, load), 3600);
  EXPECT_EQ(utc_offset("UTC", 0, nullptr), 0);
  EXPECT_EQ(utc_offset("-02:30", 0, nullptr), -(2 * 3600 + 30 * 60));
  EXPECT_EQ(utc_offset("11:00", 0, nullptr), 11 * 3600);
  EXPECT_EQ(utc_offset("Test/Broken", 0, load).error(),
            "malformed time zone data for 'Test/Broken'");
  EXPECT_EQ(utc_offset("Test/Zone", 0, nullptr).error(), "unknown time zone 'Test/Zone'");
  EXPECT_EQ(utc_offset("+5", 0, load).error(), "unknown time zone '+5'");
  EXPECT_EQ(utc_offset("/etc/passwd", 0, load).error(), "unknown time zone '/etc/passwd'");
}

}  // namespace
}  // namespace reliant::cel
