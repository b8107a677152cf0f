// Flags, environment and the choice of Store adapter.
#include "app/db_config.h"
#include "adapters/asio/run_blocking.h"
#include "app/data_dir.h"
#include "services/storage/migrator.h"

#include <filesystem>

#include "adapters/postgres/postgres_store.h"
#include "adapters/sqlite/sqlite_store.h"

namespace reliant {

void add_db_options(CLI::App& command, DbConfig& config) {
  command.add_option("--db-driver", config.driver, "Database driver: sqlite or postgres")
      ->envname("DATABASE_DRIVER")
      ->capture_default_str();
  command
      .add_option("--db-url", config.url,
                  "Postgres connection URL, or the SQLite file (default: DATA_DIR/reliant.db)")
      ->envname("DATABASE_URL");
  command.add_option("--data-dir", config.data_dir, "Directory for logs, certs and local data")
      ->envname("DATA_DIR")
      ->capture_default_str();
  command
      .add_option("--sqlite-synchronous", config.sqlite_synchronous,
                  "SQLite durability: NORMAL or FULL")
      ->capture_default_str();
}

Result<std::unique_ptr<Store>> open_store(Executor& executor, const DbConfig& config) {
  if (config.driver == "postgres") {
    if (config.url.empty()) {
      return fail(ErrorCode::invalid_argument,
                  "--db-url (or DATABASE_URL) is required when --db-driver is postgres");
    }
    auto store = PostgresStore::open(executor, config.url);
    if (!store) return fail(store.error());
    return std::unique_ptr<Store>(std::move(*store));
  }
  if (config.driver == "sqlite") {
    std::string path = config.url;
    if (path.empty()) {
      // A new data directory is private (0700); the database in it is 0600 either way.
      if (auto made = ensure_private_directory(config.data_dir); !made) return fail(made.error());
      path = (std::filesystem::path(config.data_dir) / "reliant.db").string();
    }
    auto store = SqliteStore::open(executor, path, SqliteOptions{config.sqlite_synchronous});
    if (!store) return fail(store.error());
    return std::unique_ptr<Store>(std::move(*store));
  }
  return fail(ErrorCode::invalid_argument,
              "unknown --db-driver '" + config.driver + "' (use sqlite or postgres)");
}

Result<std::unique_ptr<Store>> open_server_store(AsioExecutor& executor, const DbConfig& config,
                                                 bool migrate) {
  auto store = open_store(executor, config);
  if (!store) return fail(store.error());
  if (migrate) {
    if (auto applied = run_blocking(executor, migrate_up(**store, executor.now())); !applied) {
      return fail(applied.error());
    }
  }
  if (auto current = run_blocking(executor, require_current_schema(**store)); !current) {
    return fail(current.error());
  }
  return store;
}

}  // namespace reliant
