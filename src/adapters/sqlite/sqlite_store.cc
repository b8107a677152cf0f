// SqliteStore: each transaction is a job on the store's thread; its outcome is posted back.
#include "adapters/sqlite/sqlite_store.h"

#include "runtime/future.h"

namespace reliant {

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(Executor& executor, const std::string& path,
                                                       const SqliteOptions& options) {
  auto db = SqliteDatabase::open(path, options);
  if (!db) return fail(db.error());
  return std::unique_ptr<SqliteStore>(new SqliteStore(executor, std::move(*db)));
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
