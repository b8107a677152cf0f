// SqliteStore: the Store port on one SQLite connection, run on a thread of its own (SQLite has
// one writer anyway), resuming callers on their executor. The monolith's store.
#pragma once

#include <memory>

#include "adapters/blocking/blocking_pool.h"
#include "adapters/sqlite/sqlite_database.h"
#include "runtime/executor.h"
#include "runtime/store.h"

namespace reliant {

class SqliteStore final : public Store {
 public:
  // Callers of transact() must run on `executor`.
  static Result<std::unique_ptr<SqliteStore>> open(Executor& executor, const std::string& path,
                                                   const SqliteOptions& options = {});

  SqlDialect dialect() const override { return SqlDialect::sqlite; }
  Task<Result<void>> transact(TransactionBody body) override;
  // Transactions submitted and not yet started (the write queue).
  std::size_t queue_depth() const { return pool_.queued(); }

 private:
  SqliteStore(Executor& executor, std::unique_ptr<SqliteDatabase> db)
      : executor_(executor), db_(std::move(db)), pool_(1) {}

  Executor& executor_;
  std::unique_ptr<SqliteDatabase> db_;
  BlockingPool pool_;  // last: its thread stops before the database closes
};

}  // namespace reliant
