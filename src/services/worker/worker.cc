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
// Steps a transaction commits after its own (Worker::chain_store_work): bounds how long it holds
// the run's lock and the user's update head.
constexpr std::size_t kChainedStepsMax = 4;
// The shortest wait for something that falls due: a task another claimer holds locked shows as
// due now, and must not make the poll spin.
constexpr Duration kDueWaitMin = milliseconds(10);
// How long a step waits for its turn with its run's kept state before it decides from the store
// instead: steps of one run commit one after another anyway (the run's lock), each in a few
// milliseconds.
constexpr Duration kKeptTurnWaitMax = seconds(2);

// Runs one activity attempt and hands its outcome to `done`; destroyed (cancelled) when the
// attempt times out or loses its lease.
Task<void> attempt_activity(Activity* activity, ActivityContext* context, Json input,
                            Promise<Result<Json>> done) {
  Task<Result<Json>> running = activity->run(*context, std::move(input));
  Result<Json> outcome = co_await running;
  done.set(std::move(outcome));
}

// The updates of the store works one transaction committed, announced together: one bus
// message instead of one a work (the works are one run's steps, so one user's).
class Announcements {
 public:
  void add(const StoreWork& work) {
    if (work.bus == nullptr || work.updates == nullptr) return;
    RELIANT_ASSERT_MSG(bus_ == nullptr || bus_ == work.bus, "one worker's works share its bus");
    bus_ = work.bus;
    events_.insert(events_.end(), work.updates->begin(), work.updates->end());
  }
  void publish() {
    if (bus_ != nullptr) updates::announce(*bus_, events_);
  }

 private:
  Bus* bus_ = nullptr;
  std::vector<updates::UserEvent> events_;
};

}  // namespace

std::string wake_subject(const std::string& queue) { return "engine.wake." + queue; }
std::string wake_group(const std::string& queue) { return "engine.workers." + queue; }

namespace {

// Slots named claims under way may hold; a wake-up past them is a plain one. Anyone on the bus
// can name tasks (of no run, say): a flood of such bodies then holds these few of this worker's
// slots at most, not all of them, for claims that get nothing. (A chat's start names one task,
// a workflow's up to kFoldedEventsMax.)
constexpr std::int64_t kNamedSlotsMax = 8;

}  // namespace

Worker::Worker(Env& env, WorkerConfig config, const WorkflowRegistry& workflows,
               const ActivityRegistry& activities)
    : env_(env),
      config_(std::move(config)),
      workflows_(workflows),
      activities_(activities),
      dialect_(env.store->dialect()),
      sticky_(config_.sticky_runs),
      scope_(env.executor) {
  RELIANT_ASSERT(env_.store != nullptr && env_.bus != nullptr);
  RELIANT_ASSERT(!config_.worker_id.empty() && config_.batch > 0 && config_.in_flight_max > 0);
  RELIANT_ASSERT(config_.poll_interval > Duration::zero() &&
                 config_.reap_interval > Duration::zero());
  subscribe_to_wakes();
  scope_.spawn(poll_loop());
}

void Worker::subscribe_to_wakes() {
  if (wake_subscription_) return;
  auto subscription =
      env_.bus->queue_subscribe(wake_subject(config_.queue), wake_group(config_.queue),
                                [this](const BusMessage& m) { on_wake(m.data); });
  if (subscription) {
    wake_subscription_ = std::move(*subscription);
    if (wake_refused_) {
      log_line(env_, LogLevel::info,
               [&] { return "worker " + config_.worker_id + ": wake-ups again"; });
    }
    wake_refused_ = false;
    return;
  }
  // Wake-ups only hasten what the poll finds anyway: the worker serves without them, and the
  // poll loop asks again each turn. Said once, not on every turn.
  if (!wake_refused_) {
    log_line(env_, LogLevel::warn, [&] {
      return "worker " + config_.worker_id + ": no wake-ups for now, polling every " +
             std::to_string(to_ms(config_.poll_interval)) +
             " ms: " + subscription.error().describe();
    });
  }
  wake_refused_ = true;
}

void Worker::wake() {
  // Wake-ups are hints backed by the poll: one may be lost.
  if (buggify(env_, "worker.wake_ignored")) return;
  wakeup_.wake();
}

void Worker::on_wake(const std::string& body) {
  std::optional<NamedTasks> named;
  if (!body.empty() && !buggify(env_, "worker.named_wake_polled")) named = named_tasks_of(body);
  if (!named) {
    wake();
    return;
  }
  NamedTasks& tasks = *named;
  const auto count = static_cast<std::int64_t>(tasks.task_ids.size());
  const auto owned = owners_in_flight_.find(tasks.owner);
  const std::int64_t owner_tasks = owned == owners_in_flight_.end() ? 0 : owned->second;
  // No room for all of them (a poll under way holds its room), their user at its share, or named
  // claims under way holding slots enough: the poll claims what is fair.
  if (count > config_.batch || count > config_.in_flight_max - in_flight_ - polling_room_ ||
      owner_tasks + count > owner_share() || named_slots_ + count > kNamedSlotsMax) {
    wake();
    return;
  }
  // Reserved, slots and share, until the claim says which are this worker's.
  in_flight_ += count;
  owners_in_flight_[tasks.owner] += count;
  named_slots_ += count;
  scope_.spawn(claim_named(std::move(tasks)));
}

Task<void> Worker::claim_named(NamedTasks named) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  Task<Result<NamedClaim>> claiming =
      transact_for([dialect = dialect_, named, queue = config_.queue, worker = config_.worker_id,
                    now_ms, lease_ms = to_ms(config_.decision_lease)](SqlTransaction& tx) {
        return claim_named_tasks(tx, dialect, named.run_id, named.task_ids, queue, worker, now_ms,
                                 lease_ms);
      });
  Result<NamedClaim> claim = co_await claiming;
  named_slots_ -= static_cast<std::int64_t>(named.task_ids.size());
  for (std::size_t i = 0; i < named.task_ids.size(); ++i) task_done(named.owner);
  // Nothing claimed (another worker took them, a store fault, tasks not yet visible by this
  // worker's clock): the poll looks again, with the queue's due times.
  if (!claim || claim->claimed.empty()) {
    wake();
    co_return;
  }
  sometimes(env_, "worker.named_tasks_claimed");
  stats_.claimed += claim->claimed.size();
  stats_.named_claimed += claim->claimed.size();
  // The run's state from its history, kept for the steps that record the activities' results
  // (as a claimed activity's load keeps it) before any of them starts.
  Result<KeptRun> kept = kept_run_of(claim->history);  // none read: its tasks read their own
  std::vector<std::pair<ClaimedTask, std::optional<ScheduledActivity>>> claimed;
  for (auto& task : claim->claimed) {
    std::optional<ScheduledActivity> scheduled;
    if (kept && task.kind == TaskKind::activity)
      scheduled = scheduled_in(kept->state, task.event_seq);
    claimed.emplace_back(std::move(task), std::move(scheduled));
  }
  if (kept && wants_run_state(named.run_id)) sticky_.put(named.run_id, std::move(*kept));
  for (auto& [task, scheduled] : claimed) {
    ++in_flight_;
    const std::string owner = task.owner;
    if (!owner.empty()) ++owners_in_flight_[owner];
    if (scheduled) {
      scope_.spawn(run_eager(EagerActivity{std::move(task), std::move(*scheduled)}, owner));
    } else {
      scope_.spawn(process(std::move(task)));  // reads what it needs itself
    }
  }
}

void Worker::task_done(const std::string& owner) {
  --in_flight_;
  if (!owner.empty()) {
    const auto counted = owners_in_flight_.find(owner);
    RELIANT_ASSERT(counted != owners_in_flight_.end() && counted->second > 0);
    if (--counted->second == 0) owners_in_flight_.erase(counted);
  }
  // A poll that found no room waits for this one; otherwise a finished task is no news (claiming
  // after each would cost a transaction per task).
  if (waiting_for_room_) wake();
}

void Worker::announce_work() { (void)env_.bus->publish(wake_subject(config_.queue), ""); }

Task<void> Worker::wait_for_work(Duration timeout) {
  Task<void> waiting = wakeup_.wait(timeout);
  co_await waiting;
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

std::int64_t Worker::owner_share() const {
  return config_.in_flight_per_owner_max > 0
             ? config_.in_flight_per_owner_max
             : std::max<std::int64_t>(1, config_.in_flight_max * 3 / 4);
}

std::vector<std::string> Worker::owners_at_share() const {
  const std::int64_t share = owner_share();
  std::vector<std::string> owners;
  for (const auto& [owner, tasks] : owners_in_flight_) {
    if (tasks >= share) owners.push_back(owner);
  }
  return owners;
}

Task<Result<Worker::Poll>> Worker::poll(std::int64_t room, bool reap,
                                        std::vector<std::string> owners_at_share) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  Task<Result<Poll>> polling = transact_for([dialect = dialect_, queue = config_.queue,
                                             worker = config_.worker_id, now_ms,
                                             lease_ms = to_ms(config_.decision_lease), room, reap,
                                             owners_at_share](SqlTransaction& tx) -> Result<Poll> {
    Poll poll;
    if (reap) {
      auto reaped = requeue_expired(tx, dialect, now_ms, kReapedPerSweepMax);
      if (!reaped) return fail(reaped.error());
      poll.reaped = *reaped;
    }
    auto claim = claim_last(tx, dialect, queue, worker, now_ms, lease_ms, room, owners_at_share);
    if (!claim) return fail(claim.error());
    poll.claimed = std::move(claim->claimed);
    poll.due = claim->due;
    return poll;
  });
  Result<Poll> outcome = co_await polling;
  co_return outcome;
}

// Claims while there is room, then waits for a wake-up, for the queue's next due time (a timer,
// a retry, a lease to expire) or for the poll interval, whichever comes first. Idle, a worker
// thus costs one transaction per poll interval.
Task<void> Worker::poll_loop() {
  Instant reap_at = env_.executor.now();
  for (;;) {
    wakeup_.clear();
    subscribe_to_wakes();
    const std::int64_t room = buggify(env_, "worker.claim_one")
                                  ? std::min<std::int64_t>(1, config_.in_flight_max - in_flight_)
                                  : std::min(config_.batch, config_.in_flight_max - in_flight_);
    if (room <= 0) {
      waiting_for_room_ = true;
      co_await wait_for_work(config_.poll_interval);
      waiting_for_room_ = false;
      continue;
    }
    const Instant now = env_.executor.now();
    // Due times come from the store, so this loop keeps wall-clock time; a clock stepped back
    // must not postpone the reaper by the step.
    reap_at = std::min(reap_at, now + config_.reap_interval);
    const bool reap = now >= reap_at || buggify(env_, "worker.reap_early");
    std::vector<std::string> at_share = owners_at_share();
    const bool fair = !at_share.empty();
    Task<Result<Poll>> polling = poll(room, reap, std::move(at_share));
    polling_room_ = room;  // for a named wake-up heard meanwhile (on_wake)
    Result<Poll> polled = co_await polling;
    polling_room_ = 0;
    if (!polled) {
      co_await sleep(env_.executor, config_.store_retry);
      continue;
    }
    ++stats_.polls;
    if (reap) reap_at = now + config_.reap_interval;
    if (polled->reaped > 0) {
      sometimes(env_, "worker.expired_lease_reaped");
      stats_.reaped += static_cast<std::uint64_t>(polled->reaped);
      announce_work();
    }
    stats_.claimed += polled->claimed.size();
    const bool full = static_cast<std::int64_t>(polled->claimed.size()) == room;
    for (auto& task : polled->claimed) {
      ++in_flight_;
      if (!task.owner.empty()) ++owners_in_flight_[task.owner];
      scope_.spawn(process(std::move(task)));
    }
    if (full) {
      // More may be waiting: claim again at once, and wake another worker to share it.
      announce_work();
      continue;
    }
    Instant until = now + config_.poll_interval;
    // A task already visible and left unclaimed belongs, when some users are at their share, to
    // one of them: its time is not news (waking for it would poll in a loop); a finished task
    // of theirs wakes the loop instead.
    if (const auto& visible = polled->due.visible_at_ms;
        visible && !(fair && Instant{} + milliseconds(*visible) <= now)) {
      until = std::min(until, Instant{} + milliseconds(*visible));
    }
    if (const auto& expires = polled->due.lease_expires_at_ms) {
      // Reaped once it has expired, and not before the reaper's interval.
      const Instant expiry = Instant{} + milliseconds(*expires + 1);
      until = std::min(until, std::max(expiry, reap_at));
      if (expiry <= until) reap_at = std::min(reap_at, expiry);
    }
    // Never past the poll interval, even when the clock stepped back during the poll.
    waiting_for_room_ = fair;
    co_await wait_for_work(
        std::max(std::min(until - env_.executor.now(), config_.poll_interval), kDueWaitMin));
    waiting_for_room_ = false;
  }
}

Task<void> Worker::process(ClaimedTask task) {
  const std::string owner = task.owner;  // counted in owners_in_flight_ when claimed
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
  task_done(owner);
}

namespace {

// The run's state a decision starts from and leaves behind, handed between the executor and the
// transaction body (which runs off it, one attempt at a time). Only the first attempt may use
// the kept state: a body that runs again (a retried or group-committed transaction) may have
// applied events its rolled-back attempt read, so it starts from nothing.
struct StickyDecision {
  KeptRun run;
  std::optional<PreparedStep> prepared;  // a step decided before its transaction
  int attempts = 0;
};

// The one activity a prepared step's decision schedules, when it schedules one and nothing else
// (no timer, no end): the activity a chained step would answer.
const HistoryEvent* sole_activity(const PreparedStep& step) {
  const HistoryEvent* activity = nullptr;
  for (const HistoryEvent& e : step.decision) {
    if (e.kind == EventKind::timer_started || is_terminal(e.kind)) return nullptr;
    if (e.kind != EventKind::activity_scheduled) continue;
    if (activity != nullptr) return nullptr;
    activity = &e;
  }
  return activity;
}

}  // namespace

std::int64_t Worker::eager_room(const std::string& owner) const {
  // The caller's slot is about to free up (and it counts against its owner's share).
  std::int64_t room = std::min(config_.eager_activities, config_.in_flight_max - in_flight_ + 1);
  if (!owner.empty()) {
    const auto counted = owners_in_flight_.find(owner);
    const std::int64_t owned = counted == owners_in_flight_.end() ? 0 : counted->second;
    room = std::min(room, owner_share() - owned + 1);
  }
  return std::max<std::int64_t>(room, 0);
}

void Worker::on_decided(DecisionOutcome outcome, const std::string& owner) {
  ++stats_.decisions;
  for (auto& leased : outcome.eager) {
    ++stats_.eager;
    ++in_flight_;
    if (!owner.empty()) ++owners_in_flight_[owner];
    leased.task.owner = owner;  // the run's: its result's decision leases by the same share
    scope_.spawn(run_eager(std::move(leased), owner));
  }
  if (outcome.schedules_work) announce_work();
}

Task<Worker::KeptTurn> Worker::take_kept_turn(std::string run_id) {
  auto held = kept_turns_.find(run_id);
  if (held != kept_turns_.end()) {
    auto [promise, future] = make_promise<bool>(env_.executor);
    held->second.push_back(promise);
    ScopedTimer deadline(env_.executor, env_.executor.after(kKeptTurnWaitMax, [promise = promise] {
      (void)promise.set(false);
    }));
    const bool handed = co_await future;
    if (!handed) {
      sometimes(env_, "worker.kept_turn_timed_out");
      co_return KeptTurn{};  // the wait ran out: decide from the store
    }
    // The step before handed its turn over, the run's state put back first.
    co_return KeptTurn{sticky_.take(run_id), true};
  }
  kept_turns_.emplace(run_id, std::deque<Promise<bool>>{});
  co_return KeptTurn{sticky_.take(run_id), true};
}

void Worker::end_kept_turn(const std::string& run_id) {
  auto held = kept_turns_.find(run_id);
  RELIANT_ASSERT(held != kept_turns_.end());
  while (!held->second.empty()) {
    Promise<bool> next = std::move(held->second.front());
    held->second.pop_front();
    if (next.set(true)) return;  // its turn now (a waiter that timed out was set already)
  }
  kept_turns_.erase(held);
}

// Ends an owned kept turn when the step that took it ends, however it ends.
struct Worker::KeptTurnGuard {
  Worker* worker;
  std::string run_id;
  bool owned;
  ~KeptTurnGuard() {
    if (owned) worker->end_kept_turn(run_id);
  }
};

Task<void> Worker::run_decision(ClaimedTask task) {
  auto sticky = std::make_shared<StickyDecision>();
  if (buggify(env_, "worker.sticky_dropped")) sticky_.erase(task.run_id);  // a cache, evicted
  Task<KeptTurn> taking = take_kept_turn(task.run_id);
  KeptTurn turn = co_await taking;
  KeptTurnGuard guard{this, task.run_id, turn.owned};
  sticky->run = std::move(turn.run);
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const EagerDispatch eager{config_.worker_id, eager_room(task.owner)};
  if (sticky->run.state.last_seq > 0) ++stats_.sticky_hits;
  Task<Result<DecisionOutcome>> deciding =
      transact_for([task, dialect = dialect_, workflows = &workflows_, now_ms, eager,
                    sticky](SqlTransaction& tx) {
        if (sticky->attempts++ > 0) sticky->run = KeptRun{};
        return decide_and_commit(tx, dialect, task, *workflows, now_ms, eager, &sticky->run,
                                 /*ends_body=*/true);
      });
  Result<DecisionOutcome> outcome = co_await deciding;
  // On failure the lease runs out and the decision is retried: deciding is idempotent.
  if (!outcome) co_return;
  // Committed (or refused without writing): the state is the stored history's.
  if (sticky->run.state.last_seq > 0) sticky_.put(task.run_id, std::move(sticky->run));
  if (!outcome->committed) {
    ++stats_.dropped_decisions;
    co_return;
  }
  on_decided(std::move(*outcome), task.owner);
}

// Local activities, chained: when a step's decision schedules one activity whose attempt is
// StoreWork (a message to save, a chat to finish), the step after it is known now — the task the
// decision leases to this worker, the work's result, the decision that follows — so it commits
// in the same transaction, and so on: one transaction where each step took its own. All of it is
// prepared here, on the executor, from the kept state. The chain's activities get no tasks
// (PreparedStep::chained): the transaction writes the chain whole after its first step, or
// fails, and its next attempt decides from the store, where activities get their tasks again.
std::vector<Worker::ChainedStep> Worker::chain_store_work(PreparedStep& step,
                                                          const ClaimedTask& task,
                                                          const EagerDispatch& eager,
                                                          std::int64_t now_ms) {
  std::vector<ChainedStep> chain;
  // Only a worker that may take a decision's activities itself now (eager room) runs them
  // inline; one that may not leaves them to the queue.
  if (eager.limit < 1 || buggify(env_, "worker.chain_stopped")) return chain;
  chain.reserve(kChainedStepsMax);  // `last` points into it
  PreparedStep* last = &step;
  while (chain.size() < kChainedStepsMax) {
    const HistoryEvent* next = sole_activity(*last);
    if (next == nullptr) break;
    Activity* activity = activities_.find(next->body.value("name", ""));
    if (activity == nullptr) break;
    ClaimedTask next_task = activity_task(task.run_id, task.queue, *next, now_ms);
    ActivityContext context{next_task.run_id, next_task.event_seq, next_task.attempt,
                            env_.executor,    env_.random,         {},
                            &scope_};
    std::optional<StoreWork> work =
        activity->store_work(context, next->body.value("input", Json()));
    if (!work) break;
    auto prepared = prepare_step(last->run, next_task, work->result, workflows_, now_ms);
    if (!prepared) break;
    chain.push_back(ChainedStep{std::move(next_task), std::move(*prepared), std::move(*work)});
    // The activity's task would be inserted and deleted within the transaction: neither is
    // written (PreparedStep::chained).
    last->next_chained = true;
    last = &chain.back().step;
    last->chained = true;
  }
  return chain;
}

Task<bool> Worker::record_and_decide(ClaimedTask task, Json result, StoreWork* work) {
  auto sticky = std::make_shared<StickyDecision>();
  Task<KeptTurn> taking = take_kept_turn(task.run_id);
  KeptTurn turn = co_await taking;
  KeptTurnGuard guard{this, task.run_id, turn.owned};
  sticky->run = std::move(turn.run);
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const EagerDispatch eager{config_.worker_id, eager_room(task.owner)};
  const bool kept = sticky->run.state.last_seq > 0;
  // Deciding in the transaction from the store is always correct; the kept state only saves work.
  if (kept && !buggify(env_, "worker.decide_from_store")) {
    // Decided here, on the executor: the transaction only checks and writes.
    auto prepared = prepare_step(std::move(sticky->run), task, result, workflows_, now_ms);
    sticky->run = KeptRun{};
    if (prepared) sticky->prepared = std::move(*prepared);
  }
  auto chain = std::make_shared<std::vector<ChainedStep>>();
  if (sticky->prepared) *chain = chain_store_work(*sticky->prepared, task, eager, now_ms);
  auto chained = std::make_shared<std::size_t>(0);  // steps of the chain written
  const std::function<Result<void>(SqlTransaction&)>* write =
      work != nullptr ? &work->write : nullptr;
  Task<Result<Completion>> completing = transact_for(
      [task, dialect = dialect_, workflows = &workflows_, now_ms, eager, sticky, write, chain,
       chained, result = std::move(result)](SqlTransaction& tx) -> Result<Completion> {
        if (sticky->attempts++ > 0) {
          sticky->run = KeptRun{};
          sticky->prepared.reset();
        }
        *chained = 0;
        std::optional<Completion> completion;
        bool from_prepared = false;
        if (sticky->prepared) {
          auto written = commit_prepared_step(tx, dialect, task, *sticky->prepared, now_ms, eager);
          if (!written) return fail(written.error());
          if (*written) {
            sticky->run = std::move(sticky->prepared->run);
            completion = std::move(**written);
            from_prepared = true;
          }
          sticky->prepared.reset();  // else the history went on: decide from the store
        }
        if (!completion) {
          auto decided = complete_activity_and_decide(tx, dialect, task, result, now_ms, *workflows,
                                                      eager, &sticky->run);
          if (!decided) return fail(decided.error());
          completion = std::move(*decided);
        }
        // The activity's own writes, after the engine's (the run's lock first, as everywhere),
        // and only for the answer that counts.
        if (write != nullptr && completion->counted) {
          if (auto wrote = (*write)(tx); !wrote) return fail(wrote.error());
        }
        // The chain continues only the step prepared with it (a body run again decides from
        // the store, and the leased activities run as usual).
        for (std::size_t i = 0; from_prepared && i < chain->size(); ++i) {
          ChainedStep& next = (*chain)[i];
          auto written = commit_prepared_step(tx, dialect, next.task, next.step, now_ms, eager,
                                              /*run_locked=*/true);
          if (!written) return fail(written.error());
          RELIANT_ASSERT_MSG(*written, "a chained step checks nothing (PreparedStep::chained)");
          if (auto wrote = next.work.write(tx); !wrote) return fail(wrote.error());
          sticky->run = std::move(next.step.run);
          completion = std::move(**written);
          ++*chained;
        }
        return std::move(*completion);
      });
  Result<Completion> completion = co_await completing;
  if (!completion) co_return false;  // a store fault, or the decision failed: record it alone
  works_committed(completion->counted ? work : nullptr, *chain, *chained);
  if (sticky->run.state.last_seq > 0) sticky_.put(task.run_id, std::move(sticky->run));
  if (!completion->counted) {
    sometimes(env_, "worker.late_result_ignored");
    ++stats_.results_ignored;
    co_return true;
  }
  if (kept) ++stats_.sticky_hits;
  ++stats_.eager_decisions;
  on_decided(std::move(*completion->decided), task.owner);
  co_return true;
}

void Worker::works_committed(StoreWork* work, const std::vector<ChainedStep>& chain,
                             std::size_t chained) {
  Announcements announcements;
  if (work != nullptr) {
    sometimes(env_, "worker.store_work_committed");
    if (work->committed) work->committed();
    announcements.add(*work);
  }
  for (std::size_t i = 0; i < chained; ++i) {
    sometimes(env_, "worker.store_work_chained");
    ++stats_.activities_run;
    ++stats_.store_work;
    ++stats_.store_work_chained;
    ++stats_.decisions;
    ++stats_.eager_decisions;
    ++stats_.sticky_hits;
    if (chain[i].work.committed) chain[i].work.committed();
    announcements.add(chain[i].work);
  }
  announcements.publish();
}

Task<void> Worker::run_eager(EagerActivity leased, std::string owner) {
  // (Also an activity claimed by a named wake-up, read with its run's history.) A worker that
  // stalls with an activity leased to it: the lease expires and the reaper hands the activity to
  // another attempt (only a first attempt, so no run runs out of attempts this way).
  if (leased.task.attempt == 1 && buggify(env_, "worker.eager_abandoned")) {
    task_done(owner);
    co_return;
  }
  Task<void> step = run_activity(std::move(leased.task), std::move(leased.activity));
  co_await step;
  task_done(owner);
}

bool Worker::wants_run_state(const std::string& run_id) const {
  return config_.sticky_runs > 0 && !sticky_.contains(run_id) && !kept_turns_.contains(run_id) &&
         !runs_loading_.contains(run_id);
}

Task<Result<ScheduledActivity>> Worker::load_activity(ClaimedTask task) {
  // One of a run's activities claimed together reads its history; the others, its events.
  const bool keep = wants_run_state(task.run_id);
  if (keep) runs_loading_.insert(task.run_id);
  auto kept = std::make_shared<KeptRun>();
  Task<Result<ScheduledActivity>> loading = transact_for([task, keep, kept](SqlTransaction& tx) {
    return keep ? load_scheduled_activity_and_run(tx, task, *kept)
                : load_scheduled_activity(tx, task);
  });
  Result<ScheduledActivity> loaded = co_await loading;
  if (keep) runs_loading_.erase(task.run_id);
  if (loaded && keep && wants_run_state(task.run_id)) sticky_.put(task.run_id, std::move(*kept));
  co_return loaded;
}

Task<void> Worker::run_activity(ClaimedTask task, std::optional<ScheduledActivity> preloaded) {
  std::optional<ScheduledActivity> scheduled = std::move(preloaded);
  if (!scheduled) {
    Task<Result<ScheduledActivity>> loading = load_activity(task);
    Result<ScheduledActivity> loaded = co_await loading;
    if (!loaded) co_return;  // the lease expires and the reaper retries
    scheduled = std::move(*loaded);
  }
  if (scheduled->run_ended) {
    // Cancelled or finished meanwhile: the step must not run.
    TransactionBody retire = [task](SqlTransaction& tx) -> Result<void> {
      auto retired = retire_task(tx, task);
      if (!retired) return fail(retired.error());
      return {};
    };
    Task<Result<void>> retiring = transact(std::move(retire));
    (void)co_await retiring;
    co_return;
  }

  Result<Json> outcome = fail(ErrorCode::not_found, "unknown activity '" + scheduled->name + "'");
  if (Activity* activity = activities_.find(scheduled->name)) {
    ++stats_.activities_run;
    auto [promise, future] = make_promise<Result<Json>>(env_.executor);
    ActivityContext context{task.run_id, task.event_seq, task.attempt, env_.executor, env_.random,
                            {},          &scope_};
    if (config_.eager_decisions && !buggify(env_, "worker.store_work_run")) {
      if (std::optional<StoreWork> work = activity->store_work(context, scheduled->input)) {
        ++stats_.store_work;
        Task<bool> deciding = record_and_decide(task, work->result, &*work);
        if (co_await deciding) co_return;
        // That transaction failed: the attempt runs as any other (its writes are idempotent).
      }
    }
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
      attempt.spawn(attempt_activity(activity, &context, std::move(scheduled->input), promise));
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
    if (config_.eager_decisions && !buggify(env_, "worker.result_without_decision")) {
      Task<bool> deciding = record_and_decide(task, *outcome);
      if (co_await deciding) co_return;
    }
    // Recording a result is idempotent, so an unknown outcome is simply retried.
    auto complete = [task, dialect = dialect_, result = *outcome, now_ms](SqlTransaction& tx) {
      return complete_activity(tx, dialect, task, result, now_ms);
    };
    for (int tries = 0; tries < kResultRecordAttemptsMax; ++tries) {
      Task<Result<bool>> completing = transact_for(complete);
      Result<bool> counted = co_await completing;
      if (!counted) {
        co_await sleep(env_.executor, config_.store_retry);
        continue;
      }
      if (*counted) {
        announce_work();
      } else {
        sometimes(env_, "worker.late_result_ignored");
        ++stats_.results_ignored;
      }
      break;
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

}  // namespace reliant::engine
