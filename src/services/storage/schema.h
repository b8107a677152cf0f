// The database schema as an ordered list of migrations. Once a migration has shipped it never
// changes: schema changes are new migrations at the end.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/store.h"

namespace reliant {

struct Migration {
  std::int64_t version;
  std::string name;
  // Portable SQL (runs as is on SQLite and Postgres): TEXT, BIGINT, DOUBLE PRECISION; times are
  // BIGINT milliseconds since the epoch passed in by the caller; ids are ULID-style TEXT.
  std::vector<std::string> statements;
};

std::span<const Migration> migrations();
std::int64_t latest_schema_version();

}  // namespace reliant
