// Migrations run in their own transactions; on Postgres an advisory lock serialises concurrent
// migrators, on SQLite the single writer does.
#include "services/storage/migrator.h"

#include <algorithm>
#include <memory>

#include "services/storage/schema.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at_ms BIGINT NOT NULL)";
constexpr std::int64_t kMigrationLockKey = 0x72656c69616e74;  // "reliant"

Result<std::vector<std::int64_t>> applied_versions(SqlTransaction& tx) {
  if (auto created = tx.execute(kCreateMigrationsTable, {}); !created) return fail(created.error());
  auto rows = tx.query("SELECT version FROM schema_migrations ORDER BY version", {});
  if (!rows) return fail(rows.error());
  std::vector<std::int64_t> versions;
  for (const SqlRecord& row : records(*rows)) versions.push_back(row.integer("version"));
  return versions;
}

Error newer_database(std::int64_t current) {
  return Error{ErrorCode::failed_precondition,
               "the database schema is at version " + std::to_string(current) +
                   ", newer than this binary's " + std::to_string(latest_schema_version()) +
                   ": upgrade reliant before using this database"};
}

SchemaStatus status_from(const std::vector<std::int64_t>& applied) {
  SchemaStatus status;
  status.applied = applied;
  status.current = applied.empty() ? 0 : applied.back();
  status.latest = latest_schema_version();
  for (const auto& m : migrations()) {
    if (std::find(applied.begin(), applied.end(), m.version) == applied.end())
      status.pending.push_back(m.version);
  }
  return status;
}

}  // namespace

Task<Result<SchemaStatus>> schema_status(Store& store) {
  Task<Result<std::vector<std::int64_t>>> pending =
      store.transact_for([](SqlTransaction& tx) { return applied_versions(tx); });
  Result<std::vector<std::int64_t>> versions = co_await pending;
  if (!versions) co_return fail(versions.error());
  co_return status_from(*versions);
}

Task<Result<std::vector<std::int64_t>>> migrate_up(Store& store, Instant now, std::int64_t up_to) {
  std::vector<std::int64_t> done;
  const bool postgres = store.dialect() == SqlDialect::postgres;
  for (const Migration& migration : migrations()) {
    if (migration.version > up_to) break;
    const Migration* m = &migration;  // static storage: safe to use on the store's thread
    const std::int64_t now_ms = to_ms(now);
    // True when this transaction applied the migration, false when it was applied already.
    auto body = [m, now_ms, postgres](SqlTransaction& tx) -> Result<bool> {
      if (postgres) {
        auto locked = tx.query("SELECT pg_advisory_xact_lock($1::bigint)", {kMigrationLockKey});
        if (!locked) return fail(locked.error());
      }
      auto applied = applied_versions(tx);
      if (!applied) return fail(applied.error());
      if (!applied->empty() && applied->back() > latest_schema_version())
        return fail(newer_database(applied->back()));
      if (std::find(applied->begin(), applied->end(), m->version) != applied->end()) return false;
      std::vector<std::string> statements = m->statements;
      if (!postgres) {
        statements.insert(statements.end(), m->sqlite_statements.begin(),
                          m->sqlite_statements.end());
      }
      for (const auto& statement : statements) {
        if (auto ran = tx.execute(
                statement_for(statement, postgres ? SqlDialect::postgres : SqlDialect::sqlite), {});
            !ran) {
          return fail(ran.error().code, "migration " + std::to_string(m->version) + " (" + m->name +
                                            ") failed: " + ran.error().message);
        }
      }
      auto recorded = tx.execute(
          "INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)",
          {m->version, m->name, now_ms});
      if (!recorded) return fail(recorded.error());
      return true;
    };
    Task<Result<bool>> pending = store.transact_for(std::move(body));
    Result<bool> applied_now = co_await pending;
    if (!applied_now) co_return fail(applied_now.error());
    if (*applied_now) done.push_back(migration.version);
  }
  co_return done;
}

Task<Result<void>> require_current_schema(Store& store) {
  Task<Result<SchemaStatus>> pending = schema_status(store);
  Result<SchemaStatus> status = co_await pending;
  if (!status) co_return fail(status.error());
  if (status->current > status->latest) co_return fail(newer_database(status->current));
  if (!status->pending.empty()) {
    co_return fail(ErrorCode::failed_precondition,
                   "the database schema is at version " + std::to_string(status->current) +
                       " and " + std::to_string(status->pending.size()) +
                       " migration(s) are pending: run `reliant db migrate up` first");
  }
  co_return Result<void>{};
}

}  // namespace reliant
