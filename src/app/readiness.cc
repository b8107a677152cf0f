// The store readiness probe.
#include "app/readiness.h"

#include "runtime/sleep.h"

namespace reliant {

Task<void> watch_store(Store& store, Executor& executor, std::string* status) {
  for (;;) {
    TransactionBody probe = [](SqlTransaction& tx) -> Result<void> {
      auto r = tx.query("SELECT 1", {});
      if (!r) return fail(r.error());
      return {};
    };
    Task<Result<void>> pending = store.transact(std::move(probe));
    Result<void> ok = co_await pending;
    *status = ok ? std::string() : "database: " + ok.error().message;
    co_await sleep(executor, seconds(2));
  }
}

}  // namespace reliant
