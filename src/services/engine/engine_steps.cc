// A step prepared outside the transaction (engine_sql.h: prepare_step, commit_prepared_step): the
// worker decides on the history it keeps, then commits the activity's result and the decision in
// one transaction that first checks the stored history still ends where the step began.
#include <algorithm>
#include <cstdio>
#include <string_view>

#include "base/assert.h"
#include "base/json_parse.h"
#include "services/engine/engine_rows.h"
#include "services/engine/engine_sql.h"
#include "services/storage/sql_row.h"

namespace reliant::engine {

Result<PreparedStep> prepare_step(KeptRun kept, const ClaimedTask& task, const Json& result,
                                  const WorkflowRegistry& workflows, std::int64_t now_ms) {
  RELIANT_ASSERT(kept.state.last_seq > 0);
  PreparedStep step;
  step.from_seq = kept.state.last_seq;
  step.from_digest = kept.last_event_digest;
  step.result = HistoryEvent{
      step.from_seq + 1, EventKind::activity_completed,
      Json{{"scheduled_seq", task.event_seq}, {"result", result}, {"attempt", task.attempt}},
      now_ms};
  RunState& state = kept.state;
  if (state.terminal) return fail(ErrorCode::failed_precondition, "the kept run has ended");
  // The kept run may not know the activity yet (another worker scheduled it); apply() refuses
  // an answer to what it does not know, and the transaction decides from the store instead.
  if (auto ok = state.apply(step.result); !ok) return fail(ok.error());
  step.decision = decide_next(state, workflows.find(state.workflow), now_ms);
  for (const auto& e : step.decision) {
    const Result<void> applied = state.apply(e);
    RELIANT_ASSERT_MSG(applied.has_value(), "a decision's own events continue its history");
  }
  // The bodies as they will be stored, printed here on the worker's executor rather than inside
  // the transaction, where on SQLite every worker's steps wait for the one writer thread.
  step.result_body = step.result.body.dump();
  step.decision_bodies.reserve(step.decision.size());
  for (const auto& e : step.decision) step.decision_bodies.push_back(e.body.dump());
  const HistoryEvent& last = step.decision.empty() ? step.result : step.decision.back();
  kept.last_event_digest =
      event_digest(to_string(last.kind), last.at_ms,
                   step.decision.empty() ? step.result_body : step.decision_bodies.back());
  step.run = std::move(kept);
  return step;
}

namespace {

// The prepared step's first half: checks that the stored history still ends where the step
// starts (the event of `from_seq`, with the digest the worker kept), that the run runs and the
// activity has no answer yet; then retires the activity's task, appends its result and retires
// the decision task a previous event left ready (this step decides). False, with nothing
// written, when a check fails.
Result<bool> record_prepared_result_sqlite(SqlTransaction& tx, const ClaimedTask& task,
                                           const PreparedStep& step) {
  const std::string& run_id = task.run_id;
  if (step.chained) {
    if (auto ok = insert_event(tx, run_id, step.result, step.result_body); !ok) {
      return fail(ok.error());
    }
    return true;
  }
  auto rows = tx.query(
      "SELECT r.status, h.seq, h.kind, h.body_json, h.created_at_ms, EXISTS (SELECT 1 FROM "
      "workflow_history a WHERE a.run_id = $1 AND a.ref_seq = $3 AND a.ref_seq > 0) AS answered "
      "FROM workflow_runs r JOIN workflow_history h ON h.run_id = r.id AND h.seq = (SELECT "
      "MAX(seq) FROM workflow_history WHERE run_id = $1) WHERE r.id = $1 AND h.seq = $2",
      {run_id, step.from_seq, task.event_seq});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return false;  // the history went on
  const SqlRecord last = first_record(*rows);
  if (last.text("status") != to_string(RunStatus::running) || last.integer("answered") != 0 ||
      event_digest(last.text("kind"), last.integer("created_at_ms"), last.text("body_json")) !=
          step.from_digest) {
    return false;
  }
  if (auto done = finish_task(tx, task.id); !done) return fail(done.error());
  if (auto ok = insert_event(tx, run_id, step.result, step.result_body); !ok) {
    return fail(ok.error());
  }
  auto retired = tx.execute("DELETE FROM engine_tasks WHERE id = $1 AND status = 'ready'",
                            {workflow_task_id(run_id, step.result.seq)});
  if (!retired) return fail(retired.error());
  return true;
}

bool foldable(const PreparedStep& step) {
  return step.decision.size() <= kFoldedEventsMax &&
         std::count_if(step.decision.begin(), step.decision.end(),
                       [](const HistoryEvent& e) { return is_terminal(e.kind); }) <= 1;
}

// Postgres: a decision's writes as data-modifying CTEs of the step's statement, each
// conditional on `checked`, so that they happen exactly when the result is recorded: its events,
// the tasks of its activities and timers, and the run's close (`closed`, whose RETURNING names
// what the run's family needs). Fills `outcome` as write_decision does.
struct FoldedDecision {
  std::string ctes;  // each begins ", name AS ("
  std::optional<RunClose> close;
};

FoldedDecision fold_decision(std::vector<SqlValue>& params, const ClaimedTask& task,
                             const PreparedStep& step, std::int64_t now_ms,
                             const EagerDispatch& eager, DecisionOutcome& outcome) {
  const auto param = [&params](SqlValue value) {
    params.push_back(std::move(value));
    return "$" + std::to_string(params.size());
  };
  // Parameters travel as text: a SELECT list must say which ones are numbers.
  const auto bigint = [&param](SqlValue value) {
    return "CAST(" + param(std::move(value)) + " AS BIGINT)";
  };
  std::string now_sql;  // the step's own now_ms, a parameter once something needs it
  const auto now = [&]() -> const std::string& {
    if (now_sql.empty()) now_sql = bigint(now_ms);
    return now_sql;
  };
  FoldedDecision folded;
  for (std::size_t i = 0; i < step.decision.size(); ++i) {
    const HistoryEvent& e = step.decision[i];
    const std::string n = std::to_string(i);
    folded.ctes += ", decided_event_" + n +
                   " AS (INSERT INTO workflow_history (run_id, seq, kind, ref_seq, body_json, "
                   "created_at_ms) SELECT " +
                   listed({"$1", bigint(e.seq), param(std::string(to_string(e.kind))),
                           bigint(e.ref_seq()), param(step.decision_bodies[i]), bigint(e.at_ms)}) +
                   " FROM checked)";
    if (e.kind == EventKind::activity_scheduled && step.next_chained) {
      continue;  // answered by the next step of this transaction: no task
    }
    if (e.kind == EventKind::activity_scheduled) {
      DecidedActivity activity =
          decided_activity(task.run_id, task.queue, e, now_ms, eager, outcome);
      folded.ctes += ", decided_task_" + n + " AS (INSERT INTO engine_tasks (" +
                     std::string(kActivityTaskColumns) + ") SELECT " +
                     activity.values([&](SqlValue value, bool is_bigint) {
                       return is_bigint ? bigint(std::move(value)) : param(std::move(value));
                     }) +
                     " FROM checked)";
      note_decided(outcome, std::move(activity), e);
    } else if (e.kind == EventKind::timer_started) {
      folded.ctes += ", decided_timer_" + n +
                     " AS (INSERT INTO engine_tasks (id, queue, kind, run_id, event_seq, status, "
                     "visible_at_ms, created_at_ms, updated_at_ms) SELECT " +
                     listed({param(timer_task_id(task.run_id, e.seq)), param(task.queue), "'timer'",
                             "$1", bigint(e.seq), "'ready'",
                             bigint(e.body.value("fire_at_ms", now_ms)), now(), now()}) +
                     " FROM checked)";
      outcome.schedules_work = true;
    } else if (is_terminal(e.kind)) {
      folded.close = run_close(e);
      folded.ctes += ", closed AS (UPDATE workflow_runs SET " +
                     listed({"status = " + param(std::string(to_string(folded.close->status))),
                             "result_json = " + param(folded.close->result),
                             "error = " + param(folded.close->error), "closed_at_ms = " + now(),
                             "updated_at_ms = " + now()}) +
                     " WHERE id = $1 AND EXISTS (SELECT 1 FROM checked) RETURNING parent_run_id, "
                     "parent_key, EXISTS (SELECT 1 FROM workflow_runs c WHERE c.parent_run_id = $1 "
                     "AND c.status = 'running') AS running_children)";
      outcome.terminal = e.kind;
    }
  }
  return folded;
}

// The prepared step's statement on Postgres without its decision: the checks (`checked`), then
// what is written only when they hold — the activity's task retired, its result appended, the
// decision task a previous event left ready retired. Parameters $1 … $10.
// A retired task is deleted: the history records what it did, and a task table that kept every
// finished task would grow by a few rows a message for ever.
constexpr std::string_view kRecordPreparedResult =
    "WITH checked AS (SELECT 1 FROM workflow_runs r JOIN workflow_history h ON h.run_id = r.id "
    "AND h.seq = (SELECT MAX(seq) FROM workflow_history WHERE run_id = $1) "
    "WHERE r.id = $1 AND h.seq = CAST($2 AS BIGINT) AND r.status = 'running' "
    "AND NOT EXISTS (SELECT 1 FROM workflow_history a WHERE a.run_id = $1 "
    "AND a.ref_seq = CAST($3 AS BIGINT) AND a.ref_seq > 0) "
    "AND substr(sha256(convert_to(h.kind || '|' || h.created_at_ms || '|' || h.body_json, "
    "'UTF8')), 1, 8) = decode($4, 'hex')), "
    "finished AS (DELETE FROM engine_tasks WHERE id = $5 AND EXISTS (SELECT 1 FROM checked)), "
    "appended AS (INSERT INTO workflow_history (run_id, seq, kind, ref_seq, body_json, "
    "created_at_ms) SELECT $1, CAST($6 AS BIGINT), $7, CAST($3 AS BIGINT), $8, "
    "CAST($9 AS BIGINT) FROM checked), "
    "retired AS (DELETE FROM engine_tasks WHERE id = $10 AND status = 'ready' "
    "AND EXISTS (SELECT 1 FROM checked))";

// A chained step's statement (PreparedStep::chained): its result appended, nothing checked, no
// task retired. `checked` always holds one row, so that the decision's CTEs (fold_decision),
// each conditional on it, read the same as after the checks. Parameters $1 … $6.
constexpr std::string_view kRecordChainedResult =
    "WITH checked AS (SELECT 1), "
    "appended AS (INSERT INTO workflow_history (run_id, seq, kind, ref_seq, body_json, "
    "created_at_ms) VALUES ($1, $2, $3, $4, $5, $6))";

// The parameters of kRecordPreparedResult, or of kRecordChainedResult for a chained step.
std::vector<SqlValue> recorded_result_params(const ClaimedTask& task, const PreparedStep& step) {
  const std::string& run_id = task.run_id;
  std::string kind(to_string(step.result.kind));
  if (step.chained) {
    return {run_id,         step.result.seq,  std::move(kind),
            task.event_seq, step.result_body, step.result.at_ms};
  }
  char digest_hex[17];
  std::snprintf(digest_hex, sizeof digest_hex, "%016llx",
                static_cast<unsigned long long>(step.from_digest));
  return {run_id,
          step.from_seq,
          task.event_seq,
          std::string(digest_hex),
          task.id,
          step.result.seq,
          std::move(kind),
          step.result_body,
          step.result.at_ms,
          workflow_task_id(run_id, step.result.seq)};
}

// What record_prepared_result_sqlite does, on Postgres in one round trip: the run's lock, as every
// append takes it, then one statement whose writes are all conditional on the checks (a statement
// of its own after the lock, sent with it, so its snapshot sees whatever the previous lock holder
// committed). The digest is computed by the server (event_digest's definition in SQL), so the
// stored body never travels. With `folded`, the statement writes the decision too (fold_decision),
// and what follows a close comes after it.
Result<bool> record_prepared_result_postgres(SqlTransaction& tx, const ClaimedTask& task,
                                             const PreparedStep& step, std::int64_t now_ms,
                                             bool run_locked, const EagerDispatch& eager,
                                             DecisionOutcome* folded) {
  const std::string& run_id = task.run_id;
  std::vector<SqlValue> params = recorded_result_params(task, step);
  std::string sql(step.chained ? kRecordChainedResult : kRecordPreparedResult);
  FoldedDecision decision;
  if (folded != nullptr) {
    decision = fold_decision(params, task, step, now_ms, eager, *folded);
    sql += decision.ctes;
  }
  sql += " SELECT EXISTS (SELECT 1 FROM checked) AS recorded";
  if (decision.close) {
    sql +=
        ", (SELECT parent_run_id FROM closed) AS parent_run_id, (SELECT parent_key FROM closed) "
        "AS parent_key, COALESCE((SELECT running_children FROM closed), FALSE) AS "
        "running_children";
  }
  std::optional<SqlRows> rows;
  if (run_locked && !decision.close) {
    // The run's lock, taken by the step before in this transaction, kept anyone from appending
    // since: the checks hold, so the statement goes with the body's next one (SqlTransaction::
    // defer), a round trip saved, and checks that failed anyway fail the transaction.
    auto deferred = tx.defer(sql, std::move(params), [run_id](const SqlRows& written) {
      if (first_record(written).integer("recorded") != 0) return Result<void>();
      return Result<void>(
          fail(ErrorCode::internal, "run " + run_id + ": its history moved under the run's lock"));
    });
    if (!deferred) return fail(deferred.error());
    return true;
  }
  if (run_locked) {
    auto checked = tx.query(sql, params);
    if (!checked) return fail(checked.error());
    rows = std::move(*checked);
  } else {
    auto both = tx.query_together(
        {lock_run_statement(SqlDialect::postgres, run_id), {sql, std::move(params)}});
    if (!both) return fail(both.error());
    auto run = locked_run((*both)[0]);
    if (!run) return fail(run.error());
    // No run: the checks found nothing either, so nothing was written.
    if (!*run) return fail(ErrorCode::not_found, "no workflow run " + run_id);
    rows = std::move((*both)[1]);
  }
  const SqlRecord record = first_record(*rows);
  if (record.integer("recorded") == 0) return false;
  if (decision.close) {
    if (auto ok = close_family(tx, SqlDialect::postgres, run_id, *decision.close, record, now_ms);
        !ok)
      return fail(ok.error());
  }
  return true;
}

}  // namespace

Result<std::optional<Completion>> commit_prepared_step(
    SqlTransaction& tx, SqlDialect dialect, const ClaimedTask& task, const PreparedStep& step,
    std::int64_t now_ms, const EagerDispatch& eager, bool run_locked) {
  RELIANT_ASSERT(step.result.ref_seq() == task.event_seq);
  RELIANT_ASSERT_MSG(!step.chained || run_locked, "a chained step follows its step's lock");
  Completion completion;
  completion.counted = true;
  completion.decided.emplace();
  const bool fold = dialect == SqlDialect::postgres && foldable(step);
  auto recorded = dialect == SqlDialect::postgres
                      ? record_prepared_result_postgres(tx, task, step, now_ms, run_locked, eager,
                                                        fold ? &*completion.decided : nullptr)
                      : record_prepared_result_sqlite(tx, task, step);
  if (!recorded) return fail(recorded.error());
  if (!*recorded) return std::optional<Completion>();  // decide from the store instead
  if (!fold) {
    if (auto ok =
            write_decision(tx, dialect, task.run_id, task.queue, step.decision, now_ms, eager,
                           *completion.decided, &step.decision_bodies, false, step.next_chained);
        !ok) {
      return fail(ok.error());
    }
  }
  completion.decided->committed = true;
  return std::optional<Completion>(std::move(completion));
}

}  // namespace reliant::engine
