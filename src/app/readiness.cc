// The store readiness probe.
#include "app/readiness.h"

#include <spdlog/spdlog.h>

#include "runtime/sleep.h"

namespace reliant {
namespace {
constexpr Duration kProbeIntervalReady = seconds(10);
constexpr Duration kProbeIntervalFailing = seconds(2);
}  // namespace

Task<void> watch_store(Store& store, Executor& executor, std::string* status) {
  for (;;) {
    TransactionBody probe = [](SqlTransaction& tx) -> Result<void> {
      auto r = tx.query("SELECT 1", {});
      if (!r) return fail(r.error());
      return {};
    };
    Task<Result<void>> pending = store.transact(std::move(probe));
    Result<void> ok = co_await pending;
    // /ready answers on the bind address: the database's own words go to the log instead, once
    // per change rather than every probe.
    const std::string now = ok ? std::string() : "database: " + client_message(ok.error());
    if (!ok && now != *status)
      spdlog::warn("readiness: the database does not answer: {}", ok.error().describe());
    *status = now;
    co_await sleep(executor, ok ? kProbeIntervalReady : kProbeIntervalFailing);
  }
}

}  // namespace reliant
