// The worker's loops and task handlers, each a coroutine on the worker's executor; all database
// work is one Store transaction per step.
#include "services/worker/worker.h"

#include <memory>

#include "runtime/sleep.h"

namespace reliant::engine {
namespace {

// Attempts at recording an activity's result through store faults (recording is idempotent).
constexpr int kResultRecordAttemptsMax = 5;
// Expired leases one reaper sweep returns to the queue (the next sweep takes the rest).
constexpr std::int64_t kReapedPerSweepMax = 100;

// Runs one activity attempt and hands its outcome to `done`; destroyed (cancelled) when the
// attempt times out or loses its lease.
Task<void> attempt_activity(Activity* activity, ActivityContext* context, Json input,
                            Promise<Result<Json>> done) {
  Task<Result<Json>> running = activity->run(*context, std::move(input));
  Result<Json> outcome = co_await running;
  done.set(std::move(outcome));
}

}  // namespace

std::string wake_subject(const std::string& queue) { return "engine.wake." + queue; }

Worker::Worker(Env& env, WorkerConfig config, const WorkflowRegistry& workflows,
               const ActivityRegistry& activities)
    : env_(env),
      config_(std::move(config)),
      workflows_(workflows),
      activities_(activities),
      dialect_(env.store->dialect()),
      scope_(env.executor) {
  RELIANT_ASSERT(env_.store != nullptr && env_.bus != nullptr);
  RELIANT_ASSERT(!config_.worker_id.empty() && config_.batch > 0 && config_.max_in_flight > 0);
  auto subscription =
      env_.bus->subscribe(wake_subject(config_.queue), [this](const BusMessage&) { wake(); });
  RELIANT_ASSERT(subscription.has_value());
  wake_subscription_ = std::move(*subscription);
  scope_.spawn(poll_loop());
  scope_.spawn(reap_loop());
}

void Worker::wake() {
  woken_ = true;
  if (wake_waiter_) wake_waiter_->set(true);
}

void Worker::announce_work() { (void)env_.bus->publish(wake_subject(config_.queue), ""); }

Task<void> Worker::wait_for_work(Duration timeout) {
  if (woken_) co_return;
  auto [promise, future] = make_promise<bool>(env_.executor);
  wake_waiter_ = promise;
  ScopedTimer timer(env_.executor,
                    env_.executor.after(timeout, [promise = promise] { promise.set(false); }));
  (void)co_await future;
  wake_waiter_.reset();
}

Task<Result<void>> Worker::transact(TransactionBody body) {
  Task<Result<void>> pending = env_.store->transact(std::move(body));
  Result<void> outcome = co_await pending;
  if (!outcome) ++stats_.store_errors;
  co_return outcome;
}

template <class Body>
auto Worker::transact_for(Body body) -> Task<std::invoke_result_t<Body&, SqlTransaction&>> {
  using R = std::invoke_result_t<Body&, SqlTransaction&>;
  Task<R> pending = env_.store->transact_for(std::move(body));
  R outcome = co_await pending;
  if (!outcome) ++stats_.store_errors;
  co_return outcome;
}

Task<void> Worker::poll_loop() {
  for (;;) {
    woken_ = false;
    const std::int64_t room = std::min(config_.batch, config_.max_in_flight - in_flight_);
    if (room <= 0) {
      co_await wait_for_work(config_.poll_interval);
      continue;
    }
    const std::int64_t now_ms = to_ms(env_.executor.now());
    const std::int64_t lease_ms = to_ms(config_.decision_lease);
    Task<Result<std::vector<ClaimedTask>>> claiming =
        transact_for([dialect = dialect_, queue = config_.queue, worker = config_.worker_id,
                      now_ms, lease_ms, room](SqlTransaction& tx) {
          return claim_tasks(tx, dialect, queue, worker, now_ms, lease_ms, room);
        });
    Result<std::vector<ClaimedTask>> claimed = co_await claiming;
    if (!claimed) {
      co_await sleep(env_.executor, config_.store_retry);
      continue;
    }
    stats_.claimed += claimed->size();
    for (auto& task : *claimed) {
      ++in_flight_;
      scope_.spawn(process(std::move(task)));
    }
    // A full batch suggests more is waiting: claim again at once.
    if (static_cast<std::int64_t>(claimed->size()) < room)
      co_await wait_for_work(config_.poll_interval);
  }
}

Task<void> Worker::process(ClaimedTask task) {
  switch (task.kind) {
    case TaskKind::workflow: {
      Task<void> step = run_decision(std::move(task));
      co_await step;
      break;
    }
    case TaskKind::activity: {
      Task<void> step = run_activity(std::move(task));
      co_await step;
      break;
    }
    case TaskKind::timer: {
      Task<void> step = run_timer(std::move(task));
      co_await step;
      break;
    }
  }
  --in_flight_;
  wake();  // room for more
}

Task<void> Worker::run_decision(ClaimedTask task) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  // Room for activities leased on the spot: this task's slot is about to free up.
  const EagerDispatch eager{config_.worker_id, std::min(config_.eager_activities,
                                                        config_.max_in_flight - in_flight_ + 1)};
  Task<Result<DecisionOutcome>> deciding =
      transact_for([task, dialect = dialect_, workflows = &workflows_, now_ms,
                    eager](SqlTransaction& tx) {
        return decide_and_commit(tx, dialect, task, *workflows, now_ms, eager);
      });
  Result<DecisionOutcome> outcome = co_await deciding;
  // On failure the lease runs out and the decision is retried: deciding is idempotent.
  if (!outcome) co_return;
  if (!outcome->committed) {
    ++stats_.dropped_decisions;
    co_return;
  }
  ++stats_.decisions;
  for (auto& leased : outcome->eager) {
    ++stats_.eager;
    ++in_flight_;
    scope_.spawn(run_eager(std::move(leased)));
  }
  if (outcome->schedules_work) announce_work();
}

Task<void> Worker::run_eager(EagerActivity leased) {
  Task<void> step = run_activity(std::move(leased.task), std::move(leased.activity));
  co_await step;
  --in_flight_;
  wake();  // room for more
}

Task<void> Worker::run_activity(ClaimedTask task, std::optional<ScheduledActivity> preloaded) {
  std::optional<ScheduledActivity> scheduled = std::move(preloaded);
  if (!scheduled) {
    Task<Result<ScheduledActivity>> loading = transact_for(
        [task](SqlTransaction& tx) { return load_scheduled_activity(tx, task); });
    Result<ScheduledActivity> loaded = co_await loading;
    if (!loaded) co_return;  // the lease expires and the reaper retries
    scheduled = std::move(*loaded);
  }
  if (scheduled->run_ended) {
    // Cancelled or finished meanwhile: the step must not run.
    TransactionBody retire = [task, now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) {
      return retire_task(tx, task, now_ms);
    };
    Task<Result<void>> retiring = transact(std::move(retire));
    (void)co_await retiring;
    co_return;
  }

  Result<Json> outcome = fail(ErrorCode::not_found, "unknown activity '" + scheduled->name + "'");
  if (Activity* activity = activities_.find(scheduled->name)) {
    ++stats_.activities_run;
    auto [promise, future] = make_promise<Result<Json>>(env_.executor);
    ActivityContext context{task.run_id,   task.event_seq, task.attempt,
                            env_.executor, env_.random,    {},           &scope_};
    context.heartbeat = [this, task, promise = promise] {
      if (task.heartbeat_timeout_ms <= 0) return;
      TransactionBody beat = [task, now_ms = to_ms(env_.executor.now()),
                              promise](SqlTransaction& tx) -> Result<void> {
        auto alive = heartbeat_activity(tx, task, now_ms);
        if (!alive) return fail(alive.error());
        if (!*alive) return fail(ErrorCode::cancelled, "lease lost");
        return {};
      };
      scope_.spawn(send_heartbeat(std::move(beat), promise));
    };
    {
      Scope attempt(env_.executor);  // destroyed below: cancels the attempt if still running
      attempt.spawn(attempt_activity(activity, &context, scheduled->input, promise));
      const Duration limit =
          task.start_to_close_ms > 0 ? milliseconds(task.start_to_close_ms) : hours(24);
      ScopedTimer deadline(env_.executor, env_.executor.after(limit, [promise = promise, limit] {
        promise.set(fail(ErrorCode::timeout, engine::start_to_close_exceeded(limit)));
      }));
      Result<Json> result = co_await future;
      outcome = std::move(result);
    }
  }

  const std::int64_t now_ms = to_ms(env_.executor.now());
  if (outcome) {
    auto complete = [task, dialect = dialect_, result = *outcome, now_ms](SqlTransaction& tx) {
      return complete_activity(tx, dialect, task, result, now_ms);
    };
    // Recording a result is idempotent, so an unknown outcome is simply retried.
    for (int tries = 0; tries < kResultRecordAttemptsMax; ++tries) {
      Task<Result<bool>> completing = transact_for(complete);
      Result<bool> counted = co_await completing;
      if (counted) {
        if (*counted) {
          announce_work();
        } else {
          ++stats_.results_ignored;
        }
        break;
      }
      co_await sleep(env_.executor, config_.store_retry);
    }
    co_return;
  }
  ++stats_.activities_failed;
  const std::string error = outcome.error().message;
  TransactionBody failed = [task, dialect = dialect_, error,
                            now_ms](SqlTransaction& tx) -> Result<void> {
    return fail_activity_attempt(tx, dialect, task, error, now_ms,
                                 activity_retry_delay_ms(task.attempt));
  };
  Task<Result<void>> failing = transact(std::move(failed));
  Result<void> recorded = co_await failing;
  if (recorded) announce_work();
}

// Fire-and-forget: a lost lease ends the attempt through `attempt_done`.
Task<void> Worker::send_heartbeat(TransactionBody beat, Promise<Result<Json>> attempt_done) {
  Task<Result<void>> pending = transact(std::move(beat));
  Result<void> sent = co_await pending;
  if (!sent && sent.error().code == ErrorCode::cancelled) {
    attempt_done.set(fail(ErrorCode::cancelled, "the attempt lost its lease"));
  }
}

Task<void> Worker::run_timer(ClaimedTask task) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  TransactionBody body = [task, dialect = dialect_, now_ms](SqlTransaction& tx) -> Result<void> {
    return fire_timer(tx, dialect, task, now_ms);
  };
  Task<Result<void>> firing = transact(std::move(body));
  Result<void> fired = co_await firing;
  if (!fired) co_return;
  ++stats_.timers_fired;
  announce_work();
}

Task<void> Worker::reap_loop() {
  for (;;) {
    co_await sleep(env_.executor, config_.reap_interval);
    const std::int64_t now_ms = to_ms(env_.executor.now());
    Task<Result<std::int64_t>> reaping =
        transact_for([dialect = dialect_, now_ms](SqlTransaction& tx) {
          return requeue_expired(tx, dialect, now_ms, kReapedPerSweepMax);
        });
    Result<std::int64_t> handled = co_await reaping;
    if (handled && *handled > 0) {
      stats_.reaped += static_cast<std::uint64_t>(*handled);
      announce_work();
    }
  }
}

}  // namespace reliant::engine
