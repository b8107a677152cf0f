// Migrator: brings a database to this binary's schema, one transaction per migration, and
// refuses to run against a database from a newer binary.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "base/time.h"
#include "runtime/store.h"
#include "runtime/task.h"

namespace reliant {

struct SchemaStatus {
  std::int64_t current = 0;  // highest version applied; 0 for an empty database
  std::int64_t latest = 0;   // highest version this binary knows
  std::vector<std::int64_t> applied;
  std::vector<std::int64_t> pending;
};

Task<Result<SchemaStatus>> schema_status(Store& store);

// Applies every pending migration in order. Idempotent: running it again, or from several
// processes at once, applies each migration exactly once. Returns the versions it applied.
// Fails with `failed_precondition` when the database is newer than this binary. `up_to` stops
// after that version (tests build older schemas with it).
Task<Result<std::vector<std::int64_t>>> migrate_up(
    Store& store, Instant now, std::int64_t up_to = std::numeric_limits<std::int64_t>::max());

// For servers at start-up: ok only when the database is exactly at this binary's version.
// A newer database → `failed_precondition` ("upgrade reliant"); an older one →
// `failed_precondition` ("run reliant db migrate up").
Task<Result<void>> require_current_schema(Store& store);

}  // namespace reliant
