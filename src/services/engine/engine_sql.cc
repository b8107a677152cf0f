// Engine storage in portable SQL: starting runs and appending to their histories — decisions,
// activity results, timers, signals, cancellation. Appends lock the run row first, so concurrent
// appenders to one run serialise and each sees the others' events; the unique index on answers is
// the backstop. The task queue's claims and leases are engine_queue.cc; reading runs and their
// histories, engine_runs.cc; a step prepared outside the transaction, engine_steps.cc.
#include "services/engine/engine_sql.h"
#include "services/engine/engine_rows.h"

#include <algorithm>
#include <cstdio>

#include "base/assert.h"
#include "base/json_parse.h"
#include "base/sha256.h"
#include "services/storage/sql_row.h"

namespace reliant::engine {

std::string workflow_task_id(const std::string& run_id, std::int64_t next_seq) {
  return run_id + ":wf:" + std::to_string(next_seq);
}

std::string timer_task_id(const std::string& run_id, std::int64_t timer_seq) {
  return run_id + ":timer:" + std::to_string(timer_seq);
}

Result<void> insert_workflow_task(SqlTransaction& tx, const std::string& run_id,
                                  const std::string& queue, std::int64_t next_seq,
                                  std::int64_t now_ms) {
  auto inserted = tx.execute(
      "INSERT INTO engine_tasks (id, queue, kind, run_id, event_seq, status, visible_at_ms, "
      "created_at_ms, updated_at_ms) VALUES ($1, $2, 'workflow', $3, 0, 'ready', $4, $4, $4) "
      "ON CONFLICT DO NOTHING",
      {workflow_task_id(run_id, next_seq), queue, run_id, now_ms});
  if (!inserted) return fail(inserted.error());
  return {};
}

Result<void> finish_task(SqlTransaction& tx, const std::string& task_id) {
  auto done = tx.execute("DELETE FROM engine_tasks WHERE id = $1", {task_id});
  if (!done) return fail(done.error());
  return {};
}

// `body_json` is e.body.dump(), made by the caller when it has it already.
Result<void> insert_event(SqlTransaction& tx, const std::string& run_id, const HistoryEvent& e,
                          std::string body_json) {
  auto inserted = tx.execute(
      "INSERT INTO workflow_history (run_id, seq, kind, ref_seq, body_json, created_at_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {run_id, e.seq, std::string(to_string(e.kind)), e.ref_seq(), std::move(body_json), e.at_ms});
  if (!inserted) return fail(inserted.error());
  return {};
}

Result<void> insert_event(SqlTransaction& tx, const std::string& run_id, const HistoryEvent& e) {
  return insert_event(tx, run_id, e, e.body.dump());
}

void prepend_events(std::string& sql, std::vector<SqlValue>& params, const std::string& run_id,
                    std::span<const HistoryEvent> events, std::vector<std::string> bodies) {
  RELIANT_ASSERT(!events.empty() && bodies.size() == events.size());
  std::string rows;
  for (std::size_t e = 0; e < events.size(); ++e) {
    rows += e > 0 ? ", (" : "(";
    for (std::size_t i = 1; i <= 6; ++i) {
      rows += (i > 1 ? ", $" : "$") + std::to_string(params.size() + i);
    }
    rows += ")";
    params.insert(params.end(), {run_id, events[e].seq, std::string(to_string(events[e].kind)),
                                 events[e].ref_seq(), std::move(bodies[e]), events[e].at_ms});
  }
  const std::string appended =
      "WITH appended_event AS (INSERT INTO workflow_history (run_id, seq, kind, ref_seq, "
      "body_json, created_at_ms) VALUES " +
      rows + ")";
  sql = sql.starts_with("WITH ") ? appended + ", " + sql.substr(5) : appended + " " + sql;
}

// Postgres: `sql` (with `params`) and, in the same statement, insert_event's insert of `e` as a
// data-modifying CTE — one round trip for both. `sql` may begin with a WITH of its own.
void prepend_event(std::string& sql, std::vector<SqlValue>& params, const std::string& run_id,
                   const HistoryEvent& e, std::string body_json) {
  std::vector<std::string> bodies;
  bodies.push_back(std::move(body_json));
  prepend_events(sql, params, run_id, std::span(&e, 1), std::move(bodies));
}

Result<std::int64_t> execute_with_event(SqlTransaction& tx, std::string sql,
                                        std::vector<SqlValue> params, const std::string& run_id,
                                        const HistoryEvent& e, std::string body_json) {
  prepend_event(sql, params, run_id, e, std::move(body_json));
  return tx.execute(sql, params);
}

// Locks the run row for the rest of the transaction (SQLite: the single writer already holds it).
Result<std::optional<LockedRun>> lock_run(SqlTransaction& tx, SqlDialect dialect,
                                          const std::string& run_id) {
  const SqlStatement statement = lock_run_statement(dialect, run_id);
  auto rows = tx.query(statement.sql, statement.params);
  if (!rows) return fail(rows.error());
  return locked_run(*rows);
}

SqlStatement lock_run_statement(SqlDialect dialect, const std::string& run_id) {
  return {dialect == SqlDialect::postgres
              ? "SELECT namespace, status FROM workflow_runs WHERE id = $1 FOR UPDATE"
              : "SELECT namespace, status FROM workflow_runs WHERE id = $1",
          {run_id}};
}

Result<std::optional<LockedRun>> locked_run(const SqlRows& rows) {
  if (rows.rows.empty()) return std::optional<LockedRun>();
  const SqlRecord r = first_record(rows);
  auto status = r.enumerated("status", kRunStatusNames);
  if (!status) return fail(status.error());
  return std::optional<LockedRun>(LockedRun{r.text("namespace"), *status});
}

namespace {

// A decision's start: the run locked, and the task it was claimed for retired if this attempt
// still holds its lease (`task_held`).
struct LockedRunRetiring {
  LockedRun run;
  bool task_held = false;
};

Result<std::optional<LockedRunRetiring>> lock_run_retiring_sqlite(SqlTransaction& tx,
                                                                  const ClaimedTask& task) {
  auto run = lock_run(tx, SqlDialect::sqlite, task.run_id);
  if (!run) return fail(run.error());
  if (!*run) return std::optional<LockedRunRetiring>();
  auto held = retire_task(tx, task);
  if (!held) return fail(held.error());
  return std::optional<LockedRunRetiring>(LockedRunRetiring{std::move(**run), *held});
}

// Postgres: one round trip, which also reads the history after `after_seq` into `history`. The
// task is retired through a join with the locked run, so whatever plan runs the statement, the
// task's row is locked after the run's (the lock order everywhere: the run row, then task rows).
// Only the lock and a DELETE are in this statement: a read of the history here would use the
// snapshot taken before the lock wait and could miss what the lock's previous holder appended,
// so the history is read by a statement after it, sent with it (query_together), which takes
// its snapshot once the lock is held.
Result<std::optional<LockedRunRetiring>> lock_run_retiring_postgres(
    SqlTransaction& tx, const ClaimedTask& task, std::int64_t after_seq,
    std::optional<SqlRows>& history) {
  auto both = tx.query_together(
      {{"WITH run AS (SELECT namespace, status FROM workflow_runs WHERE id = $1 FOR UPDATE), "
        "retired AS (DELETE FROM engine_tasks t USING run WHERE t.id = $2 AND "
        "t.status = 'leased' AND t.attempt = $3 RETURNING 1) "
        "SELECT namespace, status, (SELECT COUNT(*) FROM retired) AS held FROM run",
        {task.run_id, task.id, task.attempt}},
       history_after(task.run_id, after_seq)});
  if (!both) return fail(both.error());
  const SqlRows& rows = (*both)[0];
  history = std::move((*both)[1]);
  if (rows.rows.empty()) return std::optional<LockedRunRetiring>();
  const SqlRecord r = first_record(rows);
  auto status = r.enumerated("status", kRunStatusNames);
  if (!status) return fail(status.error());
  return std::optional<LockedRunRetiring>(
      LockedRunRetiring{LockedRun{r.text("namespace"), *status}, r.integer("held") > 0});
}

Result<void> tell_parent(SqlTransaction& tx, SqlDialect dialect, const ParentRun& parent,
                         const std::string& run_id, RunStatus status, const SqlValue& result,
                         const SqlValue& error, std::int64_t now_ms);
Result<void> cancel_children(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                             std::int64_t now_ms);

// Applies what a terminal event means to the run row and its outstanding tasks, and to its
// family (close_family). With `event_body` (Postgres), the event itself is stored by the same
// statement. The parent and the children are read by that statement too (RETURNING), so a run
// without either costs no round trip more.
Result<void> close_run(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                       const HistoryEvent& e, std::int64_t now_ms,
                       std::optional<std::string> event_body = {}) {
  RunClose close = run_close(e);
  std::string sql =
      "UPDATE workflow_runs SET status = $2, result_json = $3, error = $4, closed_at_ms = $5, "
      "updated_at_ms = $5 WHERE id = $1 RETURNING parent_run_id, parent_key, EXISTS (SELECT 1 "
      "FROM workflow_runs c WHERE c.parent_run_id = $1 AND c.status = 'running') AS "
      "running_children";
  std::vector<SqlValue> params{run_id, std::string(to_string(close.status)), close.result,
                               close.error, now_ms};
  if (event_body) prepend_event(sql, params, run_id, e, std::move(*event_body));
  auto rows = tx.query(sql, params);
  if (!rows) return fail(rows.error());
  // The run's other open tasks are retired lazily by whichever worker takes them: a decision or
  // timer for an ended run changes nothing, an activity is not started (ScheduledActivity::
  // run_ended). That saves an index on run_id that every task insert would pay for.
  if (rows->rows.empty()) return {};
  return close_family(tx, dialect, run_id, close, first_record(*rows), now_ms);
}

// Appends one event that answers or informs (not a decision): activity results, timer firings,
// signals, cancellation. Returns false when it does not apply (run ended, answer already there).
// Postgres: the whole append in one round trip after the run row's lock — insert the event at
// the run's next seq (for answers: only if none exists), bump the seq, make sure a decision task
// is ready, and retire `finish_task_id` (if any). Taking the lock in a statement of its own
// means this statement's snapshot already sees whatever a previous lock holder committed.
Result<std::optional<std::int64_t>> append_postgres(SqlTransaction& tx, const std::string& run_id,
                                                    const HistoryEvent& event,
                                                    const std::string& finish_task_id,
                                                    bool make_decision_task) {
  auto run = lock_run(tx, SqlDialect::postgres, run_id);
  if (!run) return fail(run.error());
  if (!*run) return fail(ErrorCode::not_found, "no workflow run " + run_id);
  std::string sql =
      "WITH ins AS (INSERT INTO workflow_history (run_id, seq, kind, ref_seq, body_json, "
      "created_at_ms) SELECT $1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM workflow_history WHERE "
      "run_id = $1), $2, CAST($3 AS BIGINT), $4, CAST($5 AS BIGINT) "
      "FROM workflow_runs WHERE id = $1 AND status = 'running'";
  if (event.ref_seq() > 0) {
    // `ref_seq > 0` spelled out: a generic plan (a prepared statement's, after its first
    // executions) knows nothing of $3, and without it cannot use the partial index
    // workflow_history_one_answer — it scans the run's whole history instead.
    sql +=
        " AND NOT EXISTS (SELECT 1 FROM workflow_history WHERE run_id = $1 AND ref_seq = $3 "
        "AND ref_seq > 0)";
  }
  sql += " RETURNING seq), ";
  // Without a decision task, the queue's namespace ($7) is still named, for Postgres' typing.
  sql += make_decision_task
             ? "decide AS (INSERT INTO engine_tasks (id, queue, kind, run_id, event_seq, status, "
               "visible_at_ms, created_at_ms, updated_at_ms) SELECT $1 || ':wf:' || (seq + 1), $7, "
               "'workflow', $1, 0, 'ready', $5, $5, $5 FROM ins WHERE NOT EXISTS (SELECT 1 FROM "
               "engine_tasks WHERE id = $1 || ':wf:' || ins.seq AND status = 'ready') "
               "ON CONFLICT DO NOTHING), "
             : "decide AS (SELECT CAST($7 AS TEXT) AS queue), ";
  sql +=
      "retire AS (DELETE FROM engine_tasks WHERE id = $6) "
      // Postgres runs every data-modifying CTE whether or not the query reads it.
      "SELECT (SELECT seq FROM ins) AS appended_seq";
  auto rows = tx.query(sql, {run_id, std::string(to_string(event.kind)), event.ref_seq(),
                             event.body.dump(), event.at_ms, finish_task_id, (*run)->queue});
  if (!rows) return fail(rows.error());
  return first_record(*rows).optional_integer("appended_seq");
}

// `queue` is the run's namespace when the caller knows it (a claimed task does), saving a lookup.
// Returns the event's seq, or nullopt when it does not apply.
// Without `make_decision_task` the caller decides in the same transaction.
Result<std::optional<std::int64_t>> append_external(SqlTransaction& tx, SqlDialect dialect,
                                                    const std::string& run_id, EventKind kind,
                                                    Json body, std::int64_t now_ms,
                                                    const std::string& finish_task_id = {},
                                                    const std::string& queue = {},
                                                    bool make_decision_task = true) {
  const HistoryEvent event{0, kind, std::move(body), now_ms};
  if (dialect == SqlDialect::postgres)
    return append_postgres(tx, run_id, event, finish_task_id, make_decision_task);
  // SQLite: the single writer holds the database, so these statements are race-free without a
  // row lock; in-process statements cost microseconds, not round trips. One read, then plain
  // writes: an INSERT … SELECT from its own table would make SQLite copy the rows it reads into a
  // temporary b-tree first. The read fetches the run, its last seq, whether the event's activity
  // or timer has an answer already, and whether the decision task made after the last event is
  // still ready.
  auto state = tx.query(
      "SELECT namespace, status, last, EXISTS (SELECT 1 FROM workflow_history WHERE run_id = $1 "
      "AND ref_seq = $2 AND ref_seq > 0) AS answered, EXISTS (SELECT 1 FROM engine_tasks WHERE "
      "id = $1 || ':wf:' || (last + 1) AND status = 'ready') AS decision_ready FROM (SELECT "
      "namespace, status, (SELECT "
      "COALESCE(MAX(seq), 0) FROM workflow_history WHERE run_id = $1) AS last FROM "
      "workflow_runs WHERE id = $1)",
      {run_id, event.ref_seq()});
  if (!state) return fail(state.error());
  if (!finish_task_id.empty()) {
    if (auto done = finish_task(tx, finish_task_id); !done) return fail(done.error());
  }
  if (state->rows.empty()) return fail(ErrorCode::not_found, "no workflow run " + run_id);
  const SqlRecord run = first_record(*state);
  // Appends only while the run runs and — for answers — only if the activity or timer has no
  // answer yet: the first answer counts.
  auto status = run.enumerated("status", kRunStatusNames);
  if (!status) return fail(status.error());
  if (*status != RunStatus::running || run.integer("answered") != 0) return std::nullopt;
  const std::int64_t seq = run.integer("last") + 1;
  RELIANT_ASSERT(seq >= 1);  // continues the history (a run starts with its first event)
  auto appended = tx.execute(
      "INSERT INTO workflow_history (run_id, seq, kind, ref_seq, body_json, created_at_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      {run_id, seq, std::string(to_string(kind)), event.ref_seq(), event.body.dump(), now_ms});
  if (!appended) return fail(appended.error());
  // A decision task is not needed while the one made after the previous event is still ready:
  // whoever takes it replays the whole history, this event included. (An index enforcing one
  // ready decision per run would cost a write on every step. Extra decision tasks are harmless:
  // a decision is made under the run lock from the latest history.)
  if (!make_decision_task || run.integer("decision_ready") != 0) return seq;
  const std::string run_queue = queue.empty() ? run.text("namespace") : queue;
  if (auto ok = insert_workflow_task(tx, run_id, run_queue, seq + 1, now_ms); !ok) {
    return fail(ok.error());
  }
  return seq;
}

}  // namespace

Result<TaskKind> parse_task_kind(const std::string& text) {
  if (text == "workflow") return TaskKind::workflow;
  if (text == "activity") return TaskKind::activity;
  if (text == "timer") return TaskKind::timer;
  return fail(ErrorCode::internal, "unknown task kind '" + text + "'");
}

std::string_view to_string(TaskKind kind) {
  switch (kind) {
    case TaskKind::workflow:
      return "workflow";
    case TaskKind::activity:
      return "activity";
    case TaskKind::timer:
      return "timer";
  }
  return "unknown";
}

std::int64_t activity_retry_delay_ms(std::int64_t attempt) {
  const std::int64_t shift = std::clamp<std::int64_t>(attempt - 1, 0, 6);
  return std::min<std::int64_t>(1000LL << shift, 60'000);
}

const std::string_view kActivityTaskColumns =
    "id, queue, kind, run_id, event_seq, status, attempt, max_attempts, visible_at_ms, "
    "lease_owner, leased_at_ms, lease_expires_at_ms, start_to_close_ms, heartbeat_timeout_ms, "
    "created_at_ms, updated_at_ms";

DecidedActivity decided_activity(const std::string& run_id, const std::string& queue,
                                 const HistoryEvent& e, std::int64_t now_ms,
                                 const EagerDispatch& eager, const DecisionOutcome& outcome) {
  const bool leased = static_cast<std::int64_t>(outcome.eager.size()) < eager.limit;
  return DecidedActivity{
      activity_task(run_id, queue, e, leased ? std::optional(now_ms) : std::nullopt), leased,
      leased ? eager.worker_id : std::string(), now_ms};
}

std::string DecidedActivity::values(
    const std::function<std::string(SqlValue, bool bigint)>& placeholder) const {
  const auto text = [&placeholder](SqlValue value) { return placeholder(std::move(value), false); };
  const auto number = [&placeholder](SqlValue value) {
    return placeholder(std::move(value), true);
  };
  const auto if_leased = [this](SqlValue value) { return leased ? value : SqlValue(nullptr); };
  return listed({text(task.id), text(task.queue), "'activity'", text(task.run_id),
                 number(task.event_seq), text(std::string(leased ? "leased" : "ready")),
                 number(task.attempt), number(task.attempts_max), number(now_ms),
                 text(if_leased(owner)), number(if_leased(now_ms)),
                 number(if_leased(task.lease_expires_at_ms)), number(task.start_to_close_ms),
                 number(task.heartbeat_timeout_ms), number(now_ms), number(now_ms)});
}

std::string listed(std::initializer_list<std::string> items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

void note_decided(DecisionOutcome& outcome, DecidedActivity activity, const HistoryEvent& e) {
  if (!activity.leased) {
    outcome.schedules_work = true;
    return;
  }
  outcome.eager.push_back(EagerActivity{
      std::move(activity.task), {e.body.value("name", ""), e.body.value("input", Json()), false}});
}

// Writes a decision's events and the tasks they create: activities and timers ready for any
// worker, except up to `eager.limit` activities inserted already leased to `eager.worker_id`
// (returned in `outcome`). The caller holds the run lock and decided on the history read under
// it.
// `bodies`, when given, holds each event's body already dumped, in the same order.
// On Postgres an activity's event and its task go in one statement (one round trip, not two).
Result<void> write_decision(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                            const std::string& queue, const std::vector<HistoryEvent>& events,
                            std::int64_t now_ms, const EagerDispatch& eager,
                            DecisionOutcome& outcome, const std::vector<std::string>* bodies,
                            bool ends_body, bool activity_chained) {
  RELIANT_ASSERT(bodies == nullptr || bodies->size() == events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const HistoryEvent& e = events[i];
    std::string body = bodies != nullptr ? (*bodies)[i] : e.body.dump();
    if (e.kind == EventKind::activity_scheduled && activity_chained) {
      RELIANT_ASSERT(!ends_body);
      if (auto ok = insert_event(tx, run_id, e, std::move(body)); !ok) return fail(ok.error());
      continue;  // answered by the next step of this transaction: no task
    }
    // On Postgres an activity's event goes with its task, a terminal event with the run's close.
    const bool event_in_next_statement =
        dialect == SqlDialect::postgres &&
        (e.kind == EventKind::activity_scheduled || is_terminal(e.kind));
    if (!event_in_next_statement) {
      if (auto ok = insert_event(tx, run_id, e, std::move(body)); !ok) return fail(ok.error());
    }
    if (e.kind == EventKind::activity_scheduled) {
      DecidedActivity activity = decided_activity(run_id, queue, e, now_ms, eager, outcome);
      std::vector<SqlValue> params;
      std::string sql = "INSERT INTO engine_tasks (" + std::string(kActivityTaskColumns) +
                        ") VALUES (" + activity.values([&params](SqlValue value, bool) {
                          params.push_back(std::move(value));
                          return "$" + std::to_string(params.size());
                        }) +
                        ")";
      if (!event_in_next_statement) {
        if (auto inserted = tx.execute(sql, params); !inserted) return fail(inserted.error());
      } else if (ends_body && i + 1 == events.size()) {  // the transaction's last statement
        prepend_event(sql, params, run_id, e, std::move(body));
        if (auto inserted = tx.query_last(sql, params); !inserted) return fail(inserted.error());
      } else if (auto inserted = execute_with_event(tx, std::move(sql), std::move(params), run_id,
                                                    e, std::move(body));
                 !inserted) {
        return fail(inserted.error());
      }
      note_decided(outcome, std::move(activity), e);
    } else if (e.kind == EventKind::timer_started) {
      auto inserted = tx.execute(
          "INSERT INTO engine_tasks (id, queue, kind, run_id, event_seq, status, visible_at_ms, "
          "created_at_ms, "
          "updated_at_ms) VALUES ($1, $2, 'timer', $3, $4, 'ready', $5, $6, $6)",
          {timer_task_id(run_id, e.seq), queue, run_id, e.seq, e.body.value("fire_at_ms", now_ms),
           now_ms});
      if (!inserted) return fail(inserted.error());
      outcome.schedules_work = true;
    } else if (is_terminal(e.kind)) {
      std::optional<std::string> event_body;
      if (event_in_next_statement) event_body = std::move(body);
      if (auto ok = close_run(tx, dialect, run_id, e, now_ms, std::move(event_body)); !ok)
        return fail(ok.error());
      outcome.terminal = e.kind;
    }
  }
  return {};
}

// The first 8 bytes of SHA-256 over "kind|at_ms|body_json", read big-endian: a definition
// Postgres can compute too (record_prepared_result_postgres), unlike std::hash.
std::size_t event_digest(std::string_view kind, std::int64_t at_ms, std::string_view body_json) {
  static_assert(sizeof(std::size_t) == 8);
  Sha256 hash;
  hash.update(kind);
  hash.update("|");
  hash.update(std::to_string(at_ms));
  hash.update("|");
  hash.update(body_json);
  const Sha256::Digest digest = hash.finish();
  std::size_t prefix = 0;
  for (std::size_t i = 0; i < 8; ++i) prefix = prefix << 8 | digest[i];
  return prefix;
}

std::size_t event_digest(const HistoryEvent& e) {
  return event_digest(to_string(e.kind), e.at_ms, e.body.dump());
}

namespace {

// Where bring_up_to_date reads the history from: after the event before `kept`'s last one.
std::int64_t read_history_after(const KeptRun* kept) {
  return kept != nullptr && kept->state.last_seq > 0 ? kept->state.last_seq - 1 : 0;
}

// Brings `kept` up to the run's stored history: applies the events after its last one when that
// one is still the stored event of its seq (a state is only kept from committed transactions;
// this is the cheap check that it was), else folds the whole history into it. `read`: the
// history after read_history_after(&kept), when the caller has read it already.
Result<void> bring_up_to_date(SqlTransaction& tx, const std::string& run_id, KeptRun& kept,
                              const SqlRows* read) {
  RunState& state = kept.state;
  if (state.last_seq > 0) {
    auto newer = read != nullptr ? history_of(run_id, *read)
                                 : load_history_after(tx, run_id, state.last_seq - 1);
    if (!newer) return fail(newer.error());
    bool applied = !newer->empty() && newer->front().seq == state.last_seq &&
                   event_digest(newer->front()) == kept.last_event_digest;
    for (std::size_t i = 1; applied && i < newer->size(); ++i) {
      applied = state.apply((*newer)[i]).has_value();
    }
    if (applied) {
      kept.last_event_digest = event_digest(newer->back());
      return {};
    }
  }
  auto history =
      read != nullptr && state.last_seq == 0 ? history_of(run_id, *read) : load_history(tx, run_id);
  if (!history) return fail(history.error());
  auto folded = RunState::fold(*history);
  if (!folded) return fail(ErrorCode::internal, "run " + run_id + ": " + folded.error().message);
  state = std::move(*folded);
  kept.last_event_digest = history->empty() ? 0 : event_digest(history->back());
  return {};
}

// A decision on a running run whose lock the caller holds: bring its state up to date, ask its
// workflow, write what it says. `read`: as bring_up_to_date's.
Result<DecisionOutcome> decide_locked(SqlTransaction& tx, SqlDialect dialect,
                                      const std::string& run_id, const std::string& queue,
                                      const WorkflowRegistry& workflows, std::int64_t now_ms,
                                      const EagerDispatch& eager, KeptRun* kept,
                                      const SqlRows* read = nullptr, bool ends_body = false) {
  KeptRun local;
  KeptRun& run_kept = kept != nullptr ? *kept : local;
  if (auto ok = bring_up_to_date(tx, run_id, run_kept, read); !ok) return fail(ok.error());
  RunState& state = run_kept.state;
  const auto events = decide_next(state, workflows.find(state.workflow), now_ms);
  // The history's invariants, checked where it is written: a running run's history has no
  // terminal event, and the decision's events continue its numbers without a gap, with at most
  // one terminal event, last.
  const std::int64_t last_seq = state.last_seq;
  RELIANT_ASSERT(!state.terminal);
  for (std::size_t i = 0; i < events.size(); ++i) {
    RELIANT_ASSERT(events[i].seq == last_seq + 1 + static_cast<std::int64_t>(i));
    RELIANT_ASSERT(!is_terminal(events[i].kind) || i + 1 == events.size());
  }
  DecisionOutcome outcome;
  if (auto ok = write_decision(tx, dialect, run_id, queue, events, now_ms, eager, outcome, nullptr,
                               ends_body);
      !ok)
    return fail(ok.error());
  if (kept != nullptr && !events.empty()) {
    // The run after this transaction, for the caller to keep if it commits.
    for (const auto& e : events) {
      const Result<void> applied = state.apply(e);
      RELIANT_ASSERT_MSG(applied.has_value(), "a decision's own events continue its history");
    }
    kept->last_event_digest = event_digest(events.back());
  }
  outcome.committed = true;
  return outcome;
}

}  // namespace

Result<DecisionOutcome> decide_and_commit(SqlTransaction& tx, SqlDialect dialect,
                                          const ClaimedTask& task,
                                          const WorkflowRegistry& workflows, std::int64_t now_ms,
                                          const EagerDispatch& eager, KeptRun* kept,
                                          bool ends_body) {
  DecisionOutcome outcome;
  // Locking the run first means nobody appends between our read and our write, so the decision
  // is made on the latest history and needs no further check.
  std::optional<SqlRows> history;  // Postgres: read with the lock
  auto run = dialect == SqlDialect::postgres
                 ? lock_run_retiring_postgres(tx, task, read_history_after(kept), history)
                 : lock_run_retiring_sqlite(tx, task);
  if (!run) return fail(run.error());
  if (!*run) return fail(ErrorCode::not_found, "no workflow run " + task.run_id);
  if (!(*run)->task_held) return outcome;  // the lease expired and the task went to another worker
  // Ended meanwhile: nothing to decide.
  if ((*run)->run.status != RunStatus::running) return outcome;
  return decide_locked(tx, dialect, task.run_id, (*run)->run.queue, workflows, now_ms, eager, kept,
                       history ? &*history : nullptr, ends_body);
}

Result<ScheduledActivity> load_scheduled_activity(SqlTransaction& tx, const ClaimedTask& task) {
  auto rows = tx.query(
      "SELECT h.kind, h.body_json, r.status FROM workflow_history h JOIN workflow_runs r ON r.id = "
      "h.run_id WHERE h.run_id = $1 AND h.seq = $2",
      {task.run_id, task.event_seq});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty() || first_record(*rows).text("kind") != "activity_scheduled") {
    return fail(ErrorCode::internal, "run " + task.run_id + " has no activity scheduled at seq " +
                                         std::to_string(task.event_seq));
  }
  const SqlRecord row = first_record(*rows);
  Json body = parse_json_or_discarded(row.text("body_json"), kStoredJsonDepthMax);
  if (!body.is_object())
    return fail(ErrorCode::internal, "run " + task.run_id + ": corrupt activity_scheduled body");
  return ScheduledActivity{body.value("name", ""), body.value("input", Json()),
                           row.text("status") != to_string(RunStatus::running)};
}

Result<bool> retire_task(SqlTransaction& tx, const ClaimedTask& task) {
  auto retired =
      tx.execute("DELETE FROM engine_tasks WHERE id = $1 AND status = 'leased' AND attempt = $2",
                 {task.id, task.attempt});
  if (!retired) return fail(retired.error());
  return *retired > 0;
}

Result<bool> complete_activity(SqlTransaction& tx, SqlDialect dialect, const ClaimedTask& task,
                               const Json& result, std::int64_t now_ms) {
  // The task is retired (deleted) whatever the outcome: a late attempt's result is ignored, but
  // its task is finished all the same.
  auto appended = append_external(
      tx, dialect, task.run_id, EventKind::activity_completed,
      Json{{"scheduled_seq", task.event_seq}, {"result", result}, {"attempt", task.attempt}},
      now_ms, task.id, task.queue);
  if (!appended) return fail(appended.error());
  return appended->has_value();
}

Result<Completion> complete_activity_and_decide(SqlTransaction& tx, SqlDialect dialect,
                                                const ClaimedTask& task, const Json& result,
                                                std::int64_t now_ms,
                                                const WorkflowRegistry& workflows,
                                                const EagerDispatch& eager, KeptRun* kept) {
  // Appending locks the run (Postgres; SQLite's one writer holds it all along) and checks it
  // runs, which is all a decision needs.
  auto appended = append_external(
      tx, dialect, task.run_id, EventKind::activity_completed,
      Json{{"scheduled_seq", task.event_seq}, {"result", result}, {"attempt", task.attempt}},
      now_ms, task.id, task.queue, /*make_decision_task=*/false);
  if (!appended) return fail(appended.error());
  Completion completion;
  completion.counted = appended->has_value();
  if (!completion.counted) return completion;
  // A decision task made after an earlier event and not yet taken has nothing left to decide
  // once this one has: retired, it costs no worker a transaction.
  const std::int64_t seq = **appended;
  auto retired = tx.execute("DELETE FROM engine_tasks WHERE id = $1 AND status = 'ready'",
                            {workflow_task_id(task.run_id, seq)});
  if (!retired) return fail(retired.error());
  auto decided =
      decide_locked(tx, dialect, task.run_id, task.queue, workflows, now_ms, eager, kept);
  if (!decided) return fail(decided.error());
  completion.decided = std::move(*decided);
  return completion;
}
Result<void> fail_activity_attempt(SqlTransaction& tx, SqlDialect dialect, const ClaimedTask& task,
                                   const std::string& error, std::int64_t now_ms,
                                   std::int64_t retry_delay_ms) {
  // Each step is conditional on the lease (status and attempt), so a late or duplicate caller
  // changes nothing.
  if (task.attempt < task.attempts_max) {
    auto retried = tx.execute(
        "UPDATE engine_tasks SET status = 'ready', lease_owner = NULL, lease_expires_at_ms = NULL, "
        "visible_at_ms = $3, last_error = $4, updated_at_ms = $5 WHERE id = $1 AND status = "
        "'leased' AND attempt = $2",
        {task.id, task.attempt, now_ms + retry_delay_ms, error, now_ms});
    if (!retried) return fail(retried.error());
    return {};
  }
  // Lock order everywhere: the run row, then task rows.
  auto run = lock_run(tx, dialect, task.run_id);
  if (!run) return fail(run.error());
  // The error stays in the run's history (activity_failed), which outlives the task.
  auto retired =
      tx.execute("DELETE FROM engine_tasks WHERE id = $1 AND status = 'leased' AND attempt = $2",
                 {task.id, task.attempt});
  if (!retired) return fail(retired.error());
  if (*retired == 0) return {};
  auto appended = append_external(
      tx, dialect, task.run_id, EventKind::activity_failed,
      Json{{"scheduled_seq", task.event_seq}, {"error", error}, {"attempts", task.attempt}}, now_ms,
      {}, task.queue);
  if (!appended) return fail(appended.error());
  return {};
}

Result<void> fire_timer(SqlTransaction& tx, SqlDialect dialect, const ClaimedTask& task,
                        std::int64_t now_ms) {
  auto appended =
      append_external(tx, dialect, task.run_id, EventKind::timer_fired,
                      Json{{"started_seq", task.event_seq}}, now_ms, task.id, task.queue);
  if (!appended) return fail(appended.error());
  return {};
}

Result<void> signal_run(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                        const std::string& name, const Json& payload, std::int64_t now_ms) {
  auto appended = append_external(tx, dialect, run_id, EventKind::signal_received,
                                  Json{{"name", name}, {"payload", payload}}, now_ms);
  if (!appended) return fail(appended.error());
  if (!*appended)
    return fail(ErrorCode::failed_precondition, "workflow run " + run_id + " has already ended");
  return {};
}

namespace {

Result<void> tell_parent(SqlTransaction& tx, SqlDialect dialect, const ParentRun& parent,
                         const std::string& run_id, RunStatus status, const SqlValue& result,
                         const SqlValue& error, std::int64_t now_ms) {
  Json payload{{"key", parent.key},
               {"run_id", run_id},
               {"status", std::string(to_string(status))},
               {"result", nullptr},
               {"error", nullptr}};
  if (const auto* text = std::get_if<std::string>(&result)) {
    payload["result"] = parse_json_or_discarded(*text, kStoredJsonDepthMax);
  }
  if (const auto* text = std::get_if<std::string>(&error)) payload["error"] = *text;
  auto told =
      signal_run(tx, dialect, parent.run_id, std::string(kChildEndedSignal), payload, now_ms);
  // A parent that ended first (and cancelled this run) or is gone waits for nothing.
  if (!told && told.error().code != ErrorCode::failed_precondition &&
      told.error().code != ErrorCode::not_found) {
    return told;
  }
  return {};
}

Result<void> cancel_children(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                             std::int64_t now_ms) {
  auto rows = tx.query(
      "SELECT id FROM workflow_runs WHERE parent_run_id = $1 AND status = 'running' ORDER BY id",
      {run_id});
  if (!rows) return fail(rows.error());
  for (const SqlRecord& child : records(*rows)) {
    auto cancelled =
        cancel_run(tx, dialect, child.text("id"), "its parent run " + run_id + " ended", now_ms);
    if (!cancelled && cancelled.error().code != ErrorCode::failed_precondition) return cancelled;
  }
  return {};
}

}  // namespace

RunClose run_close(const HistoryEvent& e) {
  RELIANT_ASSERT(is_terminal(e.kind));
  if (e.kind == EventKind::run_completed)
    return RunClose{RunStatus::completed, e.body.value("result", Json()).dump(), nullptr};
  if (e.kind == EventKind::run_failed)
    return RunClose{RunStatus::failed, nullptr, e.body.value("error", "")};
  return RunClose{RunStatus::cancelled, nullptr, e.body.value("reason", "")};
}

Result<void> close_family(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                          const RunClose& close, const SqlRecord& closed, std::int64_t now_ms) {
  if (const auto parent = closed.optional_text("parent_run_id")) {
    const ParentRun to{*parent, closed.optional_text("parent_key").value_or("")};
    if (auto told =
            tell_parent(tx, dialect, to, run_id, close.status, close.result, close.error, now_ms);
        !told)
      return told;
  }
  if (closed.integer("running_children") != 0) return cancel_children(tx, dialect, run_id, now_ms);
  return {};
}

Result<void> cancel_run(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                        const std::string& reason, std::int64_t now_ms) {
  auto appended = append_external(tx, dialect, run_id, EventKind::cancel_requested,
                                  Json{{"reason", reason}}, now_ms);
  if (!appended) return fail(appended.error());
  if (!*appended)
    return fail(ErrorCode::failed_precondition, "workflow run " + run_id + " has already ended");
  return {};
}

}  // namespace reliant::engine
