// SqliteStore: the Store port on one SQLite connection, run on a thread of its own (SQLite has
// one writer anyway), resuming callers on their executor. The monolith's store.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

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

  ~SqliteStore() override;

  SqlDialect dialect() const override { return SqlDialect::sqlite; }
  Task<Result<void>> transact(TransactionBody body) override;
  // Transactions submitted and not yet started (the write queue).
  std::size_t queue_depth() const { return pool_.queued(); }

 private:
  SqliteStore(Executor& executor, std::unique_ptr<SqliteDatabase> db,
              std::unique_ptr<SqliteDatabase> checkpointer, int wal_truncate_idle_ms);
  void checkpoint_loop();

  Executor& executor_;
  std::unique_ptr<SqliteDatabase> db_;
  // A second connection that checkpoints the WAL in the background, so no commit pays for it
  // (SQLite otherwise checkpoints inside whichever commit crosses 1000 WAL pages: the p99),
  // and truncates it once the store has been idle for wal_truncate_idle_ms_ (a checkpoint
  // alone never gives the file's space back: a burst of writes left a 445 MB WAL for good).
  // Null for in-memory databases (no WAL).
  std::unique_ptr<SqliteDatabase> checkpointer_;
  const int wal_truncate_idle_ms_;
  // Transactions finished so far: the checkpointer sees from it that the store is idle.
  std::atomic<std::uint64_t> transactions_{0};
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_wake_;
  bool stopping_ = false;
  std::thread checkpoint_thread_;
  BlockingPool pool_;  // last: its thread stops before the database closes
};

}  // namespace reliant
