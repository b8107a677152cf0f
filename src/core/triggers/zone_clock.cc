// A zone's wall clock: offsets from TZif data, and local times mapped back to instants.
#include "core/triggers/zone_clock.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>

namespace reliant::triggers {
namespace {

// Samples of the offset every four hours across ±kUtcOffsetSpanS: switches are months apart
// (a few zones have had two within a day or two, never within four hours), so these see every
// offset a local time's instants can have.
constexpr std::int64_t kOffsetSampleStepS = 4 * 3600;
constexpr std::size_t kOffsetSamples = 2 * kUtcOffsetSpanS / kOffsetSampleStepS + 1;

// A long name shortened for a message.
std::string shown_zone(std::string_view zone) {
  return zone.size() > 64 ? std::string(zone.substr(0, 64)) + "…" : std::string(zone);
}

}  // namespace

tl::expected<ZoneClock, std::string> ZoneClock::load(std::string_view zone,
                                                     const cel::TimeZoneLoader& loader) {
  ZoneClock clock;
  clock.name_ = std::string(zone);
  if (zone.empty() || zone == "UTC") return clock;
  // cel::utc_offset knows which names are fixed offsets and which are IANA names; the data it
  // loads for an IANA name is kept here, so that no later offset loads it again.
  std::shared_ptr<const std::string> data;
  const cel::TimeZoneLoader keeping = [&](std::string_view name) -> std::optional<std::string> {
    auto bytes = loader ? loader(name) : std::nullopt;
    if (bytes) data = std::make_shared<const std::string>(*bytes);
    return bytes;
  };
  auto offset = cel::utc_offset(zone, 0, keeping);
  if (!offset) {
    if (data) return tl::unexpected(offset.error());  // found, but malformed
    return tl::unexpected("unknown IANA time zone: " + shown_zone(zone));
  }
  clock.fixed_offset_s_ = *offset;
  if (data) {
    // The footer's rule beyond the transitions (2038 and later in most files) must read too.
    constexpr std::int64_t kYear2100S = 4102444800;
    if (!cel::tzif_offset(*data, kYear2100S)) {
      return tl::unexpected("malformed time zone data for '" + shown_zone(zone) + "'");
    }
    clock.tzif_ = std::move(data);
  }
  return clock;
}

std::int64_t ZoneClock::offset_s(std::int64_t unix_s) const {
  if (!tzif_) return fixed_offset_s_;
  // Data that read at load but not at this instant (a malformed stretch): the offset at 1970.
  return cel::tzif_offset(*tzif_, unix_s).value_or(fixed_offset_s_);
}

std::int64_t ZoneClock::first_instant_s(std::int64_t local) const {
  if (!tzif_) return local - fixed_offset_s_;
  std::array<std::int64_t, kOffsetSamples> offsets{};
  for (std::size_t i = 0; i < kOffsetSamples; ++i) {
    offsets[i] =
        offset_s(local - kUtcOffsetSpanS + static_cast<std::int64_t>(i) * kOffsetSampleStepS);
  }
  std::sort(offsets.begin(), offsets.end());
  // An instant whose wall clock reads `local` is local - o for one of the zone's offsets o
  // near it; of those that hold, the earliest is the first occurrence.
  std::optional<std::int64_t> first;
  for (const auto o : offsets) {
    const std::int64_t instant = local - o;
    if (offset_s(instant) == o && (!first || instant < *first)) first = instant;
  }
  if (first) return *first;
  // None holds: a forward switch skipped `local`. Between local - max (before the switch) and
  // local - min (after it) the wall clock only rises; the switch is the first instant there
  // whose wall clock reads past `local`.
  std::int64_t low = local - offsets.back();
  std::int64_t high = local - offsets.front();
  // Data this does not model (two switches within four hours): the nearest sensible instant.
  if (low >= high || local_s(high) <= local) return local - offset_s(local);
  while (high - low > 1) {
    const std::int64_t middle = low + (high - low) / 2;
    if (local_s(middle) > local) {
      high = middle;
    } else {
      low = middle;
    }
  }
  return high;
}

}  // namespace reliant::triggers
