// Worker: the durable engine's executor of tasks (docs/architecture.md §7). It leases tasks from
// the store's queue, replays and decides workflow tasks, runs activities with their timeouts and
// heartbeats, fires timers and returns expired leases — stateless, so any number can run and
// any can crash. Wake-ups come over the bus; a slow poll is the safety net.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/engine/workflow.h"
#include "runtime/env.h"
#include "runtime/future.h"
#include "runtime/scope.h"
#include "runtime/wakeup.h"
#include "services/engine/engine_sql.h"
#include "services/worker/activity.h"
#include "services/worker/named_wake.h"
#include "services/worker/run_cache.h"

namespace reliant::engine {

struct WorkerConfig {
  std::string worker_id;          // unique per process incarnation (lease owner)
  std::string queue = "reliant";  // the namespace's task queue
  std::int64_t batch = 16;        // tasks claimed per transaction
  Duration decision_lease = seconds(30);
  // The longest a worker waits for a wake-up before it looks at the queue anyway (a lost
  // wake-up, a worker that died between wake-up and claim). Timers and expiring leases are
  // looked at when they fall due, whatever this is.
  Duration poll_interval = seconds(2);
  // Expired leases are returned at most this often while the queue is busy.
  Duration reap_interval = seconds(1);
  std::int64_t in_flight_max = 64;  // tasks processed at once
  // Claimed tasks of one user's runs processed at once (0: three quarters of in_flight_max, at
  // least one): one user's runs cannot take every slot, so other users' chats and runs always
  // find room. Activities a decision leases to its own worker count too: a decision leases none
  // for a user at their share.
  std::int64_t in_flight_per_owner_max = 0;
  // Activities a decision may lease to its own worker at once (0: every activity is claimed).
  std::int64_t eager_activities = 8;
  // Whether the worker that records an activity's result makes the decision that follows in
  // the same transaction.
  bool eager_decisions = true;
  // Runs whose folded history the worker keeps between decisions (0: none; every decision
  // reads its run's whole history).
  std::size_t sticky_runs = 256;
  Duration store_retry = milliseconds(200);
};

struct WorkerStats {
  std::uint64_t claimed = 0;
  std::uint64_t polls = 0;            // claim transactions
  std::uint64_t named_claimed = 0;    // tasks claimed by the wake-up naming them (announce_start)
  std::uint64_t eager = 0;            // activities leased by the decision that scheduled them
  std::uint64_t eager_decisions = 0;  // decisions made with the result before them
  std::uint64_t sticky_hits = 0;      // decisions that started from a kept state
  std::uint64_t decisions = 0;
  std::uint64_t dropped_decisions = 0;
  std::uint64_t activities_run = 0;
  std::uint64_t store_work = 0;  // attempts done as StoreWork in their step's transaction
  // Of those, steps committed in the transaction of the step before (Worker::chain_store_work).
  std::uint64_t store_work_chained = 0;
  std::uint64_t activities_failed = 0;
  std::uint64_t results_ignored = 0;  // a result that lost to an earlier one
  std::uint64_t timers_fired = 0;
  std::uint64_t reaped = 0;
  std::uint64_t store_errors = 0;
};

// The subject a worker listens on for "new tasks in `queue`", as a member of the queue group
// `wake_group(queue)`: each announcement wakes one worker, not all of them.
std::string wake_subject(const std::string& queue);
std::string wake_group(const std::string& queue);

class Worker {
 public:
  // `env` must carry a store and a bus. The registries must outlive the worker.
  Worker(Env& env, WorkerConfig config, const WorkflowRegistry& workflows,
         const ActivityRegistry& activities);

  const WorkerStats& stats() const { return stats_; }
  std::int64_t in_flight() const { return in_flight_; }

 private:
  Task<void> poll_loop();
  // The claim transaction: expired leases back to the queue (when `reap`), up to `room` tasks
  // leased, and when the queue next falls due.
  struct Poll {
    std::vector<ClaimedTask> claimed;
    std::int64_t reaped = 0;
    NextDue due;
  };
  Task<Result<Poll>> poll(std::int64_t room, bool reap, std::vector<std::string> owners_at_share);
  // The users whose claimed tasks fill their share of the slots.
  std::vector<std::string> owners_at_share() const;
  Task<void> process(ClaimedTask task);
  Task<void> run_decision(ClaimedTask task);
  // Records an activity's result with the decision that follows, in one transaction; false when
  // that transaction failed (the caller then records the result alone). With `work`, its writes
  // go in the same transaction (StoreWork), and its `committed` runs when they committed; the
  // updates of all the works the transaction carried (`work`'s, the chain's) are announced in
  // one message.
  Task<bool> record_and_decide(ClaimedTask task, Json result, StoreWork* work = nullptr);
  // The steps after `step` whose activities are StoreWork, prepared to commit in its
  // transaction (at most kChainedStepsMax; see worker.cc).
  struct ChainedStep {
    ClaimedTask task;
    PreparedStep step;
    StoreWork work;
  };
  // What follows the commit of a transaction that carried store works (`work`, when its write
  // counted, and the first `chained` of `chain`): their `committed`, the counts, and their
  // updates announced together (one message: the works are one run's, so one user's).
  void works_committed(StoreWork* work, const std::vector<ChainedStep>& chain, std::size_t chained);
  std::vector<ChainedStep> chain_store_work(PreparedStep& step, const ClaimedTask& task,
                                            const EagerDispatch& eager, std::int64_t now_ms);
  // What a committed decision leaves to do: its eagerly leased activities, a wake-up.
  void on_decided(DecisionOutcome outcome, const std::string& owner);
  // Activities a decision may lease to this worker now.
  std::int64_t eager_room(const std::string& owner) const;
  // How many of one user's tasks this worker processes at once (in_flight_per_owner_max).
  std::int64_t owner_share() const;
  // Whether this worker would keep the run's state from a claim's read: it keeps none, and no
  // step of it holds one (RunCache, take_kept_turn).
  bool wants_run_state(const std::string& run_id) const;
  // The activity a claimed task runs, read from the store; for a run this worker keeps no state
  // of, read with the run's history, which it keeps (load_scheduled_activity_and_run) so that
  // the step recording the result decides here and chains what follows (record_and_decide)
  // instead of deciding from the store inside its transaction.
  Task<Result<ScheduledActivity>> load_activity(ClaimedTask task);
  // `preloaded`: the activity, when the task was leased with it (eager dispatch).
  Task<void> run_activity(ClaimedTask task, std::optional<ScheduledActivity> preloaded = {});
  Task<void> run_timer(ClaimedTask task);
  Task<void> run_eager(EagerActivity leased, std::string owner);
  Task<void> send_heartbeat(TransactionBody beat, Promise<Result<Json>> attempt_done);
  // Runs `body` once; on failure counts it and returns the error.
  Task<Result<void>> transact(TransactionBody body);
  // Store::transact_for, counting store errors.
  template <class Body>
  auto transact_for(Body body) -> Task<std::invoke_result_t<Body&, SqlTransaction&>>;
  // Waits until a wake-up arrives or `timeout` passes.
  Task<void> wait_for_work(Duration timeout);
  void wake();
  // A wake-up heard: one naming tasks (announce_start) is taken at once when there is room for
  // them, anything else wakes the poll loop.
  void on_wake(const std::string& body);
  // Claims named tasks in the slots (and the owner's share) reserved for them, frees the
  // reservation and runs what it claimed.
  Task<void> claim_named(NamedTasks named);
  // Subscribes to wake-ups unless subscribed; a refusal is logged once and tried again later.
  void subscribe_to_wakes();
  void announce_work();
  // A task's slot is free again.
  void task_done(const std::string& owner);
  // This worker's steps of one run take turns with its kept state: a step waits (at most
  // kKeptTurnWaitMax) while another holds it, so each decides from the kept state instead of
  // replaying the whole run — a parallel loop's activities ending together each replayed the
  // run from its start, O(n^2) over the loop. `owned` is false when the wait ran out: the step
  // then decides from the store and gives back nothing.
  struct KeptTurn {
    KeptRun run;
    bool owned = false;
  };
  Task<KeptTurn> take_kept_turn(std::string run_id);
  // Ends an owned turn (after the run's state, if any, is put back): the next waiter's turn.
  void end_kept_turn(const std::string& run_id);
  struct KeptTurnGuard;

  Env& env_;
  WorkerConfig config_;
  const WorkflowRegistry& workflows_;
  const ActivityRegistry& activities_;
  SqlDialect dialect_;
  RunCache sticky_;
  WorkerStats stats_;
  std::int64_t in_flight_ = 0;
  std::map<std::string, std::int64_t> owners_in_flight_;  // claimed tasks by their run's owner
  // Runs whose kept state a step of this worker holds, and the steps waiting for their turn
  // (bounded by in_flight_max and eager activities: each is a task in flight).
  std::map<std::string, std::deque<Promise<bool>>> kept_turns_;
  // Runs whose history a claimed activity's load is reading to keep (load_activity): bounded by
  // the tasks in flight.
  std::set<std::string> runs_loading_;
  // Slots named claims under way hold (on_wake), and the room a poll under way may fill: what a
  // named wake-up heard meanwhile must leave.
  std::int64_t named_slots_ = 0;
  std::int64_t polling_room_ = 0;
  Wakeup wakeup_{env_.executor};
  bool waiting_for_room_ = false;      // the poll loop waits for a slot, not for work
  SubscriptionPtr wake_subscription_;  // null while the bus refuses it (polling still serves)
  bool wake_refused_ = false;
  Scope scope_;  // last: destroyed first, before anything its tasks use
};

}  // namespace reliant::engine
