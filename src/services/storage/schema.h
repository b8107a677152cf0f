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
  // Portable SQL (runs on SQLite and Postgres): TEXT, BIGINT, DOUBLE PRECISION; times are
  // BIGINT milliseconds since the epoch passed in by the caller; ids are ULID-style TEXT.
  // The token {{without_rowid}} after a CREATE TABLE's closing parenthesis becomes
  // " WITHOUT ROWID" on SQLite (one b-tree per row instead of two for text-keyed tables: measured
  // p99 engine step 5.6 ms → 0.8 ms) and nothing on Postgres.
  // On hot tables, write a CHECK's list of values as ORs: SQLite tests `x IN (a, b, c)` by
  // building a temporary b-tree on every write (see migration 5).
  std::vector<std::string> statements;
  // Run after `statements` on SQLite only: changes that matter to SQLite's engine alone.
  std::vector<std::string> sqlite_statements = {};
};

// A migration statement as `dialect` runs it.
std::string statement_for(const std::string& statement, SqlDialect dialect);

std::span<const Migration> migrations();
std::int64_t latest_schema_version();

}  // namespace reliant
