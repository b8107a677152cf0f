// The durable engine's storage: runs, append-only histories and the task queue, as operations
// inside one Store transaction each (docs/architecture.md §7). Shared by workers, the api server,
// the CLI and the simulator; identical on SQLite and Postgres except that Postgres claims with
// FOR UPDATE SKIP LOCKED.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/enum_names.h"
#include "core/engine/history.h"
#include "core/engine/workflow.h"
#include "runtime/store.h"
#include "services/storage/sql_row.h"

namespace reliant::engine {

// A run started by another run, which waits for it: when the child ends, the parent receives
// kChildEndedSignal carrying `key`; when the parent ends first, the child is cancelled.
struct ParentRun {
  std::string run_id;
  std::string key;  // what the parent waits on (the workflow language: the node's key)
};

struct NewRun {
  std::string id;
  std::string queue;  // the namespace's task queue
  std::string workflow;
  Json input;
  std::optional<ParentRun> parent = std::nullopt;
};

// A workflow run is running until it ends in one of the other three.
enum class RunStatus { running, completed, failed, cancelled };
inline constexpr EnumNames<RunStatus, 4> kRunStatusNames{{
    {RunStatus::running, "running"},
    {RunStatus::completed, "completed"},
    {RunStatus::failed, "failed"},
    {RunStatus::cancelled, "cancelled"},
}};
constexpr std::string_view to_string(RunStatus status) { return name_of(kRunStatusNames, status); }
RELIANT_JSON_BY_NAME(RunStatus, kRunStatusNames)

struct RunSummary {
  std::string id;
  std::string queue;
  std::string workflow;
  RunStatus status = RunStatus::running;
  Json input;
  std::optional<Json> result;
  std::optional<std::string> error;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> closed_at_ms;
  bool terminal() const { return status != RunStatus::running; }
};

enum class TaskKind { workflow, activity, timer };
std::string_view to_string(TaskKind kind);
// "workflow", "activity" or "timer" as stored; internal for anything else.
Result<TaskKind> parse_task_kind(const std::string& text);

// A task this worker holds. `attempt` fences the lease: only the holder of the current attempt
// may move the task on; a late holder's writes are refused or ignored.
struct ClaimedTask {
  std::string id;
  TaskKind kind = TaskKind::workflow;
  std::string run_id;
  std::int64_t event_seq = 0;  // the activity_scheduled / timer_started event it serves
  std::int64_t attempt = 0;
  std::int64_t attempts_max = 1;
  std::int64_t lease_expires_at_ms = 0;
  std::int64_t start_to_close_ms = 0;
  std::int64_t heartbeat_timeout_ms = 0;
  std::string queue;    // the run's namespace
  std::string owner{};  // the run's user, for fair scheduling; empty when it names none or unread
};

// When start_run's write goes out. `with_next`: on Postgres, with the body's next statement
// (SqlTransaction::defer), a round trip saved — for a new id only, since a duplicate then fails
// that statement instead of answering already_exists here.
enum class RunStartSent { now, with_next };

// Creates a run (history: run_started) and its first workflow task. `already_exists` for a
// duplicate id.
//
// `decide_first`: the starter makes the run's first decision itself, from `decide_first`'s
// workflows, when that decision schedules activities and nothing else (a chat's first model
// call): their events and tasks, ready for any worker, are written with the run instead of the
// workflow task, and no worker spends a transaction (and its round trips) deciding the start.
// Any other first decision is left to a worker, as without it. Deciding is a pure function of
// the history, so the worker's replay of these events agrees with them.
//
// `ready_tasks`: where to add the ids of the tasks the start made ready (its workflow task, or
// its decision's activity tasks), for a wake-up that names them (claim_named_tasks).
Result<void> start_run(SqlTransaction& tx, SqlDialect dialect, const NewRun& run,
                       std::int64_t now_ms, RunStartSent sent = RunStartSent::now,
                       const WorkflowRegistry* decide_first = nullptr,
                       std::vector<std::string>* ready_tasks = nullptr);
Result<RunSummary> get_run(SqlTransaction& tx, const std::string& run_id);
// Makes a running run that has no parent the child of `parent` (a child started before runs
// recorded their parents); false when the run has ended or has a parent already.
Result<bool> adopt_child_run(SqlTransaction& tx, const std::string& run_id,
                             const ParentRun& parent);
// A user's runs (those whose input names them as user_id), newest first.
Result<std::vector<RunSummary>> list_runs(SqlTransaction& tx, const std::string& owner,
                                          std::int64_t limit);
Result<std::vector<HistoryEvent>> load_history(SqlTransaction& tx, const std::string& run_id);
// The events after seq `after_seq`, in order.
Result<std::vector<HistoryEvent>> load_history_after(SqlTransaction& tx, const std::string& run_id,
                                                     std::int64_t after_seq);
// load_history_after in two halves, for a caller that sends its statement with others
// (SqlTransaction::query_together): the statement, and the events its rows hold.
SqlStatement history_after(const std::string& run_id, std::int64_t after_seq);
Result<std::vector<HistoryEvent>> history_of(const std::string& run_id, const SqlRows& rows);

// Leases up to `batch` ready tasks of `queue`, oldest first, leaving those of runs whose
// owner is in `owners_at_share` (users the worker runs its fair share of already). Activity
// leases last their start-to-close timeout (or heartbeat timeout, if shorter); others
// `lease_ms`. Each task comes with its run's owner.
Result<std::vector<ClaimedTask>> claim_tasks(SqlTransaction& tx, SqlDialect dialect,
                                             const std::string& queue, const std::string& worker_id,
                                             std::int64_t now_ms, std::int64_t lease_ms,
                                             std::int64_t batch,
                                             const std::vector<std::string>& owners_at_share = {});

// What a worker woken for named tasks of one run took (claim_named_tasks): those it leased, and
// the run's whole history when it leased any.
struct NamedClaim {
  std::vector<ClaimedTask> claimed;
  std::vector<HistoryEvent> history;
};
// Leases those of `task_ids` (tasks of run `run_id` in `queue`) that are ready and visible, with
// the run's history: for a worker woken by the start that made them ready, so it neither looks
// over the whole queue nor reads the activity's event apart. On Postgres one statement, the
// body's last (a transaction of its own); the history is read with the statement's snapshot, so
// it may miss an event appended meanwhile (a decision from it is checked against the store).
Result<NamedClaim> claim_named_tasks(SqlTransaction& tx, SqlDialect dialect,
                                     const std::string& run_id,
                                     const std::vector<std::string>& task_ids,
                                     const std::string& queue, const std::string& worker_id,
                                     std::int64_t now_ms, std::int64_t lease_ms);

// The activity_scheduled event a task serves: its name and input.
struct ScheduledActivity {
  std::string name;
  Json input;
  bool run_ended = false;  // then the activity must not run: retire the task instead
};

// An activity task leased in the same transaction that scheduled it, with what it runs.
struct EagerActivity {
  ClaimedTask task;
  ScheduledActivity activity;
};

// Leases up to `limit` of the activities a decision schedules to the deciding worker at once
// ("eager dispatch"): no claim transaction, no wake-up round trip, no second read of the
// history. The lease is the same as a claim's, so a worker that dies holding it is handled the
// same way (the lease expires and the task is retried).
struct EagerDispatch {
  std::string worker_id;
  std::int64_t limit = 0;
};

// The task of `e`, an activity_scheduled event of run `run_id` in `queue`: ready, or with
// `leased_at_ms` as a decision leases it to its own worker (attempt 1, the lease a claim takes).
ClaimedTask activity_task(const std::string& run_id, const std::string& queue,
                          const HistoryEvent& e, std::optional<std::int64_t> leased_at_ms);

struct DecisionOutcome {
  bool committed = false;       // false: the lease was lost or the run had ended
  bool schedules_work = false;  // new activity or timer tasks became ready (not leased eagerly)
  std::optional<EventKind> terminal;
  std::vector<EagerActivity> eager;
};

// The task a decision's activity_scheduled event `e` creates: leased to the deciding worker while
// `outcome` holds fewer eager activities than `eager.limit`, else ready for any worker.
struct DecidedActivity {
  ClaimedTask task;
  bool leased = false;
  std::string owner;  // the deciding worker, when leased
  std::int64_t now_ms = 0;
  // The values of kActivityTaskColumns, in order and ", "-separated, each as `placeholder` names
  // it once it has taken the value as a parameter (`bigint`: the column is a number).
  std::string values(const std::function<std::string(SqlValue, bool bigint)>& placeholder) const;
};
extern const std::string_view kActivityTaskColumns;
DecidedActivity decided_activity(const std::string& run_id, const std::string& queue,
                                 const HistoryEvent& e, std::int64_t now_ms,
                                 const EagerDispatch& eager, const DecisionOutcome& outcome);
// Adds a written activity to `outcome`: eager (to run now) or ready for any worker.
void note_decided(DecisionOutcome& outcome, DecidedActivity activity, const HistoryEvent& e);

// What a terminal event writes to its run row.
struct RunClose {
  RunStatus status = RunStatus::completed;
  SqlValue result;  // result_json: the result's JSON, or null
  SqlValue error;   // the error or the cancellation's reason, or null
};
RunClose run_close(const HistoryEvent& e);
// What follows a run row's close, from the close's RETURNING parent_run_id, parent_key and
// running_children: the parent (if any) is told (kChildEndedSignal), and the children still
// running are cancelled, each a decision of its own, so a cascade needs no worker slot and goes
// down a tree one level per decision.
Result<void> close_family(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                          const RunClose& close, const SqlRecord& closed, std::int64_t now_ms);
// A run's state as a worker keeps it between decisions (sticky execution, docs/architecture.md
// §7): the folded history, and a digest of its last event, which must match the stored event of
// that seq for the state to be trusted.
struct KeptRun {
  RunState state;
  std::size_t last_event_digest = 0;  // event_digest of the state's last event
};
// A run's state folded from its whole history, kept with its last event's digest (internal when
// the history is empty or does not fold).
Result<KeptRun> kept_run_of(const std::vector<HistoryEvent>& history);
// The activity `state` scheduled at `event_seq`, as a task of it runs; none when it has none.
std::optional<ScheduledActivity> scheduled_in(const RunState& state, std::int64_t event_seq);
// What tells one event from another at the same seq (its kind, time and body).
std::size_t event_digest(const HistoryEvent& e);
// The same from a stored row, without parsing its body: every writer stores body.dump().
std::size_t event_digest(std::string_view kind, std::int64_t at_ms, std::string_view body_json);

// A whole workflow task in one transaction: lock the run, replay its history, ask its workflow
// (from `workflows`) what to do, and commit that. A corrupt history fails with `internal`.
//
// `kept`: the run as the caller last saw it, or empty. When it continues the stored history,
// only the events appended since are read and applied; otherwise the whole history is folded
// into it. On return it also holds the decision's events: the run after this transaction —
// valid only if the transaction commits, so a caller keeps it only then, and gives a body that
// runs again an empty one.
//
// `ends_body`: it is the whole body, so its last statement is the transaction's
// (SqlTransaction::query_last) and nothing may run after it.
Result<DecisionOutcome> decide_and_commit(SqlTransaction& tx, SqlDialect dialect,
                                          const ClaimedTask& task,
                                          const WorkflowRegistry& workflows, std::int64_t now_ms,
                                          const EagerDispatch& eager = {}, KeptRun* kept = nullptr,
                                          bool ends_body = false);
Result<ScheduledActivity> load_scheduled_activity(SqlTransaction& tx, const ClaimedTask& task);
// load_scheduled_activity for a worker that keeps no state of the task's run (its activity was
// scheduled by a starter, or by a worker without room to take it): reads the run's whole history
// instead, one statement as well, and folds it into `kept`, so that the step recording the
// activity's result decides from it on the worker (prepare_step, and the chain after it) rather
// than in its transaction from the store.
Result<ScheduledActivity> load_scheduled_activity_and_run(SqlTransaction& tx,
                                                          const ClaimedTask& task, KeptRun& kept);
// Deletes a task this worker holds; false when its lease was no longer this attempt's.
Result<bool> retire_task(SqlTransaction& tx, const ClaimedTask& task);

// Records an activity's result: the first answer for its scheduled event wins, later ones
// (a slow first attempt, a redelivery) are ignored. Returns whether this call's answer counted.
Result<bool> complete_activity(SqlTransaction& tx, SqlDialect dialect, const ClaimedTask& task,
                               const Json& result, std::int64_t now_ms);

struct Completion {
  bool counted = false;                    // this call's answer is the one recorded
  std::optional<DecisionOutcome> decided;  // the decision made with it, when counted
};
// Records an activity's result and, when it counted, makes the decision that follows in the same
// transaction (from `kept`, as decide_and_commit does): one transaction per step instead of two,
// for the worker that ran the activity. A decision task made earlier and not yet taken is retired.
Result<Completion> complete_activity_and_decide(SqlTransaction& tx, SqlDialect dialect,
                                                const ClaimedTask& task, const Json& result,
                                                std::int64_t now_ms,
                                                const WorkflowRegistry& workflows,
                                                const EagerDispatch& eager, KeptRun* kept);

// A step decided before its transaction, from a kept run: the activity's result event and the
// decision that follows, computed on the worker's executor instead of inside the transaction
// (where, on SQLite, every worker's decisions would share the one writer thread). The
// transaction only checks that the run's history still ends where the kept run left it, and
// writes them.
struct PreparedStep {
  KeptRun run;                  // the run after the result and the decision
  std::int64_t from_seq = 0;    // where the stored history must end…
  std::size_t from_digest = 0;  // …with this event
  HistoryEvent result;          // the activity_completed event, at from_seq + 1
  std::vector<HistoryEvent> decision;
  std::string result_body;                   // result.body.dump(), as it is stored
  std::vector<std::string> decision_bodies;  // each decision event's body, dumped
  // A chain of steps in one transaction (Worker::chain_store_work): the activity a step of it
  // answers was scheduled by the step before, in the same transaction, so its task would be
  // inserted and deleted unseen — neither is written. `chained`: this step answers such an
  // activity, under the run's lock the first step took, right after the event that step wrote,
  // so its checks hold and are not made. `next_chained`: the activity this step's decision
  // schedules is answered by the next step, whose transaction must then be this one (a chain
  // not written whole fails the transaction).
  bool chained = false;
  bool next_chained = false;
};
// Applies the activity's result and the decision that follows to `kept` (a run some decision
// of this worker left: last_seq > 0). No I/O; fails only on a history that is not what the
// task says (then the caller decides in the transaction, from the store).
Result<PreparedStep> prepare_step(KeptRun kept, const ClaimedTask& task, const Json& result,
                                  const WorkflowRegistry& workflows, std::int64_t now_ms);
// Writes a prepared step when the run still runs, the activity has no answer yet and the history
// ends at `from_seq` with the same event. nullopt when it does not: the caller then decides in
// the transaction instead (complete_activity_and_decide). `run_locked`: this transaction holds
// the run's lock already (it wrote the step before), so the lock is not taken again, and on
// Postgres the step's statement, unless it closes the run itself (and must read the run's family
// back), goes with the body's next statement (SqlTransaction::defer): its checks cannot fail
// then, and if they do the transaction fails. A chained step (PreparedStep::chained) is always
// written: it makes no checks, and runs only with `run_locked`.
Result<std::optional<Completion>> commit_prepared_step(
    SqlTransaction& tx, SqlDialect dialect, const ClaimedTask& task, const PreparedStep& step,
    std::int64_t now_ms, const EagerDispatch& eager, bool run_locked = false);
// An attempt failed: retried after `retry_delay_ms` while attempts remain, otherwise the
// activity fails for good (activity_failed). Ignored when the lease is no longer held.
Result<void> fail_activity_attempt(SqlTransaction& tx, SqlDialect dialect, const ClaimedTask& task,
                                   const std::string& error, std::int64_t now_ms,
                                   std::int64_t retry_delay_ms);
// Extends an activity's lease by its heartbeat timeout (never past start-to-close). False when
// the lease was lost (expired and re-leased, or the run ended).
Result<bool> heartbeat_activity(SqlTransaction& tx, const ClaimedTask& task, std::int64_t now_ms);
Result<void> fire_timer(SqlTransaction& tx, SqlDialect dialect, const ClaimedTask& task,
                        std::int64_t now_ms);

// Returns expired leases to the queue: decisions and timers at once, activities after a backoff
// while attempts remain (else activity_failed). Returns how many tasks it handled.
Result<std::int64_t> requeue_expired(SqlTransaction& tx, SqlDialect dialect, std::int64_t now_ms,
                                     std::int64_t tasks_max);

// `failed_precondition` when the run has ended, `not_found` for an unknown run.
Result<void> signal_run(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                        const std::string& name, const Json& payload, std::int64_t now_ms);
Result<void> cancel_run(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                        const std::string& reason, std::int64_t now_ms);

// When the queue next needs a worker without anyone announcing it: its earliest ready task that
// is not yet visible (a timer, a retry's backoff) and the earliest lease of any queue to expire.
struct NextDue {
  std::optional<std::int64_t> visible_at_ms;
  std::optional<std::int64_t> lease_expires_at_ms;
};
Result<NextDue> next_due(SqlTransaction& tx, const std::string& queue);

// A worker's poll: the tasks it claimed (claim_tasks) and, unless it claimed a full batch, when
// the queue falls due next after the claim (next_due).
struct Claim {
  std::vector<ClaimedTask> claimed;
  NextDue due;
};
// claim_tasks then next_due, as the body's last statement (SqlTransaction::query_last): on
// Postgres both are one statement, which runs as a transaction of its own when it is all the
// body writes.
Result<Claim> claim_last(SqlTransaction& tx, SqlDialect dialect, const std::string& queue,
                         const std::string& worker_id, std::int64_t now_ms, std::int64_t lease_ms,
                         std::int64_t batch, const std::vector<std::string>& owners_at_share = {});

// Delay before retry `attempt` + 1 of a failed activity: 1 s, 2 s, 4 s … capped at 60 s.
std::int64_t activity_retry_delay_ms(std::int64_t attempt);

}  // namespace reliant::engine
