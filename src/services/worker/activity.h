// Activities: the steps of a workflow that do the work (LLM calls, tool calls, database work).
// They run at least once per scheduled step; only their first result counts.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/engine/history.h"
#include "runtime/executor.h"
#include "runtime/random.h"
#include "runtime/scope.h"
#include "runtime/store.h"
#include "runtime/task.h"
#include "services/updates/user_events.h"

namespace reliant::engine {

struct ActivityContext {
  std::string run_id;
  std::int64_t scheduled_seq = 0;
  std::int64_t attempt = 0;
  Executor& executor;
  Random& random;
  // Tells the engine the attempt is alive (extends its lease when a heartbeat timeout is set).
  // A heartbeat that finds the lease lost or the run ended (cancelled) cancels the attempt.
  std::function<void()> heartbeat;
  // Outlives the attempt: where an activity starts what must still happen once its attempt is
  // cancelled (telling a daemon to stop the tool it started). Check closing() first: a worker
  // that is shutting down takes nothing new.
  Scope* cleanup = nullptr;
};

// An attempt whose whole work is writes to the store, with a result known before it writes
// (Temporal's local activity, taken one step further): the worker does the writes inside the
// transaction that records the result and makes the next decision — one transaction for the
// step, not two — or, when the step before decided this activity alone, in that step's
// transaction (Worker::chain_store_work): store_work() is then asked before the activity's task
// exists, for the attempt the decision will lease to the worker.
struct StoreWork {
  Json result;
  // The writes. Runs after the engine's own writes and only when the result counts (the run
  // still runs and the step has no answer yet); again if the transaction runs again. Whatever
  // must come last in a transaction (a lock held until commit) comes last here.
  std::function<Result<void>(SqlTransaction&)> write;
  // On the worker's executor, once a transaction with the writes in it has committed.
  std::function<void()> committed;
  // What the writes tell the user's clients, recorded by `write` (updates::recording_updates),
  // and the bus they are announced on (none: the store alone has them). Announced once a
  // transaction with the writes in it has committed, with those of every other work it carried
  // (all one run's): one message, so a chained step's reply and its chat's end are one
  // announcement.
  std::shared_ptr<std::vector<updates::UserEvent>> updates;
  Bus* bus = nullptr;
};

class Activity {
 public:
  virtual ~Activity() = default;
  virtual std::string_view name() const = 0;
  // An error retries the activity (until its attempts run out). Destroying the returned task
  // cancels the attempt (timeout, lost lease, worker shutdown).
  virtual Task<Result<Json>> run(ActivityContext& context, Json input) = 0;
  // This attempt as StoreWork, when it is one; nullopt: run() it. When the transaction that
  // carries the work fails, the worker falls back to run(), so both must do the same.
  virtual std::optional<StoreWork> store_work(const ActivityContext& /*context*/,
                                              const Json& /*input*/) {
    return std::nullopt;
  }
};

class ActivityRegistry {
 public:
  void add(std::unique_ptr<Activity> activity);
  Activity* find(std::string_view name) const;

 private:
  std::map<std::string, std::unique_ptr<Activity>, std::less<>> activities_;
};

// "echo": returns its input. With "delay_ms" in the input it first waits that long, sending a
// heartbeat every `delay_ms / 4`; with "fail_attempts": N it fails its first N attempts.
void register_builtin_activities(ActivityRegistry& registry);

}  // namespace reliant::engine
