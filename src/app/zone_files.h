// The machine's IANA time-zone database (/usr/share/zoneinfo) as the loader CEL's timestamp
// functions and the triggers' schedules take: a zone's TZif bytes by name, read once and kept.
#pragma once

#include "core/cel/time_zones.h"

namespace reliant {

// Safe to call from any thread. A name that is not a zone's — absolute, with "..", with
// characters no zone name has — loads nothing, so it never reads outside the database.
cel::TimeZoneLoader system_time_zones();

}  // namespace reliant
