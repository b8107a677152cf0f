// SqliteStore: each transaction is a job on the store's thread; its outcome is posted back. A
// second thread checkpoints the WAL, and truncates it when the store is idle.
#include "adapters/sqlite/sqlite_store.h"

#include <chrono>

#include "base/assert.h"
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
  return std::unique_ptr<SqliteStore>(new SqliteStore(
      executor, std::move(*db), std::move(checkpointer), options.wal_truncate_idle_ms));
}

SqliteStore::SqliteStore(Executor& executor, std::unique_ptr<SqliteDatabase> db,
                         std::unique_ptr<SqliteDatabase> checkpointer, int wal_truncate_idle_ms)
    : executor_(executor),
      db_(std::move(db)),
      checkpointer_(std::move(checkpointer)),
      wal_truncate_idle_ms_(wal_truncate_idle_ms),
      pool_(1) {
  RELIANT_ASSERT(wal_truncate_idle_ms_ >= 0);
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
  using Clock = std::chrono::steady_clock;
  // How long TRUNCATE may wait for others; writers that arrive meanwhile wait too, so briefly.
  constexpr int kTruncateWaitMs = 100;
  std::uint64_t seen = transactions_.load();
  Clock::time_point idle_since = Clock::now();
  bool written_since_truncate = true;  // the WAL may hold a previous process's frames
  std::unique_lock lock(checkpoint_mutex_);
  while (!checkpoint_wake_.wait_for(lock, std::chrono::milliseconds(100),
                                    [this] { return stopping_; })) {
    lock.unlock();
    // PASSIVE never blocks writers; with synchronous=NORMAL this is where the fsync happens.
    // A failure (busy) is retried on the next round.
    (void)checkpointer_->checkpoint_wal(false);
    const std::uint64_t now_seen = transactions_.load();
    const Clock::time_point now = Clock::now();
    if (now_seen != seen) {
      seen = now_seen;
      idle_since = now;
      written_since_truncate = true;
    } else if (written_since_truncate && wal_truncate_idle_ms_ > 0 &&
               now - idle_since >= std::chrono::milliseconds(wal_truncate_idle_ms_)) {
      if (checkpointer_->checkpoint_wal(true, kTruncateWaitMs)) {
        written_since_truncate = false;
      } else {
        idle_since = now;  // someone else was reading or writing: after another quiet spell
      }
    }
    lock.lock();
  }
}

Task<Result<void>> SqliteStore::transact(TransactionBody body) {
  auto [promise, future] = make_promise<Result<void>>(executor_);
  pool_.submit([this, body = std::move(body), promise = promise](std::size_t) {
    Result<void> outcome = db_->transact(body);
    transactions_.fetch_add(1);
    executor_.post([promise, outcome = std::move(outcome)] { promise.set(outcome); });
  });
  Result<void> outcome = co_await future;
  co_return outcome;
}

}  // namespace reliant
