// Worker: the durable engine's executor of tasks (docs/architecture.md §7). It leases tasks from
// the store's queue, replays and decides workflow tasks, runs activities with their timeouts and
// heartbeats, fires timers and returns expired leases — stateless, so any number can run and
// any can crash. Wake-ups come over the bus; a slow poll is the safety net.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/engine/workflow.h"
#include "runtime/env.h"
#include "runtime/future.h"
#include "runtime/scope.h"
#include "services/engine/engine_sql.h"
#include "services/worker/activity.h"

namespace reliant::engine {

struct WorkerConfig {
  std::string worker_id;          // unique per process incarnation (lease owner)
  std::string queue = "reliant";  // the namespace's task queue
  std::int64_t batch = 16;        // tasks claimed per transaction
  Duration decision_lease = seconds(30);
  Duration poll_interval = seconds(1);  // when no wake-up arrives
  Duration reap_interval = seconds(1);
  std::int64_t max_in_flight = 64;  // tasks processed at once
  // Activities a decision may lease to its own worker at once (0: every activity is claimed).
  std::int64_t eager_activities = 8;
  Duration store_retry = milliseconds(200);
};

struct WorkerStats {
  std::uint64_t claimed = 0;
  std::uint64_t eager = 0;  // activities leased by the decision that scheduled them
  std::uint64_t decisions = 0;
  std::uint64_t dropped_decisions = 0;
  std::uint64_t activities_run = 0;
  std::uint64_t activities_failed = 0;
  std::uint64_t results_ignored = 0;  // a result that lost to an earlier one
  std::uint64_t timers_fired = 0;
  std::uint64_t reaped = 0;
  std::uint64_t store_errors = 0;
};

// The subject a worker listens on for "new tasks in `queue`".
std::string wake_subject(const std::string& queue);

class Worker {
 public:
  // `env` must carry a store and a bus. The registries must outlive the worker.
  Worker(Env& env, WorkerConfig config, const WorkflowRegistry& workflows,
         const ActivityRegistry& activities);

  const WorkerStats& stats() const { return stats_; }
  std::int64_t in_flight() const { return in_flight_; }

 private:
  Task<void> poll_loop();
  Task<void> reap_loop();
  Task<void> process(ClaimedTask task);
  Task<void> run_decision(ClaimedTask task);
  // `preloaded`: the activity, when the task was leased with it (eager dispatch).
  Task<void> run_activity(ClaimedTask task, std::optional<ScheduledActivity> preloaded = {});
  Task<void> run_timer(ClaimedTask task);
  Task<void> run_eager(EagerActivity leased);
  Task<void> send_heartbeat(TransactionBody beat, Promise<Result<Json>> attempt_done);
  // Runs `body` once; on failure counts it and returns the error.
  Task<Result<void>> transact(TransactionBody body);
  // Store::transact_for, counting store errors.
  template <class Body>
  auto transact_for(Body body) -> Task<std::invoke_result_t<Body&, SqlTransaction&>>;
  // Waits until a wake-up arrives or `timeout` passes.
  Task<void> wait_for_work(Duration timeout);
  void wake();
  void announce_work();

  Env& env_;
  WorkerConfig config_;
  const WorkflowRegistry& workflows_;
  const ActivityRegistry& activities_;
  SqlDialect dialect_;
  WorkerStats stats_;
  std::int64_t in_flight_ = 0;
  bool woken_ = false;
  std::optional<Promise<bool>> wake_waiter_;
  SubscriptionPtr wake_subscription_;
  Scope scope_;  // last: destroyed first, before anything its tasks use
};

}  // namespace reliant::engine
