// Database selection shared by every command that touches the store: --db-driver, --db-url and
// --data-dir with their environment variables (spec S1.5: DATABASE_DRIVER, DATABASE_URL, DATA_DIR).
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "adapters/asio/asio_executor.h"
#include "base/result.h"
#include "runtime/executor.h"
#include "runtime/store.h"

namespace reliant {

struct DbConfig {
  std::string driver = "postgres";  // sqlite | postgres
  std::string url;  // Postgres URL, or the SQLite file (default: DATA_DIR/reliant.db)
  std::string data_dir = "./data";
  std::string sqlite_synchronous = "NORMAL";
};

void add_db_options(CLI::App& command, DbConfig& config);

// Opens the configured store on `executor`. Precise errors: unknown driver, missing URL,
// unreachable or misconfigured server (the URL's password is never printed).
Result<std::unique_ptr<Store>> open_store(Executor& executor, const DbConfig& config);

// For the servers: opens the store, applies pending migrations when `migrate`, and refuses a
// schema that is older (run `reliant db migrate up`) or newer (upgrade) than this binary's.
// Blocks on `executor` (call before it runs).
Result<std::unique_ptr<Store>> open_server_store(AsioExecutor& executor, const DbConfig& config,
                                                 bool migrate);

}  // namespace reliant
