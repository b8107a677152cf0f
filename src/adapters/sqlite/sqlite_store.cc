// SqliteStore: each transaction is a job on the store's thread; its outcome is posted back.
#include "adapters/sqlite/sqlite_store.h"

#include "runtime/future.h"

namespace reliant {

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(Executor& executor, const std::string& path,
                                                       const SqliteOptions& options) {
  auto db = SqliteDatabase::open(path, options);
  if (!db) return fail(db.error());
  std::unique_ptr<SqliteDatabase> checkpointer;
  if (path != ":memory:") {
    if (auto ok = (*db)->execute_script("PRAGMA wal_autocheckpoint = 0"); !ok)
      return fail(ok.error());
    auto second = SqliteDatabase::open(path, options);
    if (!second) return fail(second.error());
    checkpointer = std::move(*second);
  }
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(executor, std::move(*db), std::move(checkpointer)));
}

SqliteStore::SqliteStore(Executor& executor, std::unique_ptr<SqliteDatabase> db,
                         std::unique_ptr<SqliteDatabase> checkpointer)
    : executor_(executor), db_(std::move(db)), checkpointer_(std::move(checkpointer)), pool_(1) {
  if (checkpointer_) checkpoint_thread_ = std::thread([this] { checkpoint_loop(); });
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(checkpoint_mutex_);
    stopping_ = true;
  }
  checkpoint_wake_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
}

void SqliteStore::checkpoint_loop() {
  std::unique_lock lock(checkpoint_mutex_);
  while (!checkpoint_wake_.wait_for(lock, std::chrono::milliseconds(100),
                                    [this] { return stopping_; })) {
    lock.unlock();
    // PASSIVE never blocks writers; with synchronous=NORMAL this is where the fsync happens.
    (void)checkpointer_->execute_script("PRAGMA wal_checkpoint(PASSIVE)");
    lock.lock();
  }
}

Task<Result<void>> SqliteStore::transact(TransactionBody body) {
  auto [promise, future] = make_promise<Result<void>>(executor_);
  pool_.submit([this, body = std::move(body), promise = promise](std::size_t) {
    Result<void> outcome = db_->transact(body);
    executor_.post([promise, outcome = std::move(outcome)] { promise.set(outcome); });
  });
  Result<void> outcome = co_await future;
  co_return outcome;
}

}  // namespace reliant
