// Time zones for CEL's timestamp accessors (getHours('America/Los_Angeles') …): UTC, fixed offsets
// ("+05:30", "-02:00", "02:00") and IANA zones. Reading the zone database is I/O, so it is not
// done here: the caller hands in a loader that returns a zone's TZif file (RFC 8536), and this
// file interprets it — transitions, then the footer's POSIX TZ rule beyond the last one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <tl/expected.hpp>

namespace reliant::cel {

// The TZif bytes of an IANA zone ("Europe/Paris"), as /usr/share/zoneinfo/Europe/Paris holds
// them; nullopt when there is no such zone. Only called with names made of letters, digits and
// "_+-/." that contain no "..", so a loader may append them to a directory.
using TimeZoneLoader = std::function<std::optional<std::string>(std::string_view name)>;

// Whether `name` is spelt as the tz database spells names (letters, digits and "_+-/.", no
// "..", not absolute): never a path that leaves the database's directory. Says nothing of
// whether the zone exists.
bool is_zone_name(std::string_view name);

// The offset from UTC, in seconds, that `zone` has at `unix_seconds`; an error for an unknown
// zone (every IANA name is unknown without a loader).
tl::expected<std::int64_t, std::string> utc_offset(std::string_view zone, std::int64_t unix_seconds,
                                                   const TimeZoneLoader& load);

// The offset a TZif file gives at `unix_seconds`; nullopt if the data is malformed.
std::optional<std::int64_t> tzif_offset(std::string_view tzif, std::int64_t unix_seconds);

// The offset a POSIX TZ rule ("PST8PDT,M3.2.0,M11.1.0", "<+0545>-5:45") gives at
// `unix_seconds`; nullopt if the rule is malformed.
std::optional<std::int64_t> posix_tz_offset(std::string_view rule, std::int64_t unix_seconds);

}  // namespace reliant::cel
