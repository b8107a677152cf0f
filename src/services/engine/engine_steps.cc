// A step prepared outside the transaction (engine_sql.h: prepare_step, commit_prepared_step): the
// worker decides on the history it keeps, then commits the activity's result and the decision in
// one transaction that first checks the stored history still ends where the step began.
#include <cstdio>

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
                                           const PreparedStep& step, std::int64_t now_ms) {
  const std::string& run_id = task.run_id;
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
  if (auto done = finish_task(tx, task.id, now_ms); !done) return fail(done.error());
  if (auto ok = insert_event(tx, run_id, step.result, step.result_body); !ok) {
    return fail(ok.error());
  }
  auto retired = tx.execute(
      "UPDATE engine_tasks SET status = 'done', updated_at_ms = $2 WHERE id = $1 AND status = "
      "'ready'",
      {workflow_task_id(run_id, step.result.seq), now_ms});
  if (!retired) return fail(retired.error());
  return true;
}

// The same on Postgres in two round trips: the run's lock, as every append takes it, then one
// statement whose writes are all conditional on the checks (a statement of its own after the
// lock, so its snapshot sees whatever the previous lock holder committed). The digest is
// computed by the server (event_digest's definition in SQL), so the stored body never travels.
Result<bool> record_prepared_result_postgres(SqlTransaction& tx, const ClaimedTask& task,
                                             const PreparedStep& step, std::int64_t now_ms,
                                             bool run_locked) {
  const std::string& run_id = task.run_id;
  if (!run_locked) {
    auto run = lock_run(tx, SqlDialect::postgres, run_id);
    if (!run) return fail(run.error());
    if (!*run) return fail(ErrorCode::not_found, "no workflow run " + run_id);
  }
  char digest_hex[17];
  std::snprintf(digest_hex, sizeof digest_hex, "%016llx",
                static_cast<unsigned long long>(step.from_digest));
  auto rows = tx.query(
      "WITH checked AS (SELECT 1 FROM workflow_runs r JOIN workflow_history h ON h.run_id = r.id "
      "AND h.seq = (SELECT MAX(seq) FROM workflow_history WHERE run_id = $1) "
      "WHERE r.id = $1 AND h.seq = CAST($2 AS BIGINT) AND r.status = 'running' "
      "AND NOT EXISTS (SELECT 1 FROM workflow_history a WHERE a.run_id = $1 "
      "AND a.ref_seq = CAST($3 AS BIGINT) AND a.ref_seq > 0) "
      "AND substr(sha256(convert_to(h.kind || '|' || h.created_at_ms || '|' || h.body_json, "
      "'UTF8')), 1, 8) = decode($4, 'hex')), "
      "finished AS (UPDATE engine_tasks SET status = 'done', lease_owner = NULL, "
      "updated_at_ms = CAST($5 AS BIGINT) WHERE id = $6 AND EXISTS (SELECT 1 FROM checked)), "
      "appended AS (INSERT INTO workflow_history (run_id, seq, kind, ref_seq, body_json, "
      "created_at_ms) SELECT $1, CAST($7 AS BIGINT), $8, CAST($3 AS BIGINT), $9, "
      "CAST($10 AS BIGINT) FROM checked), "
      "retired AS (UPDATE engine_tasks SET status = 'done', updated_at_ms = CAST($5 AS BIGINT) "
      "WHERE id = $11 AND status = 'ready' AND EXISTS (SELECT 1 FROM checked)) "
      "SELECT EXISTS (SELECT 1 FROM checked) AS recorded",
      {run_id, step.from_seq, task.event_seq, std::string(digest_hex), now_ms, task.id,
       step.result.seq, std::string(to_string(step.result.kind)), step.result_body,
       step.result.at_ms, workflow_task_id(run_id, step.result.seq)});
  if (!rows) return fail(rows.error());
  return first_record(*rows).integer("recorded") != 0;
}

}  // namespace

Result<std::optional<Completion>> commit_prepared_step(
    SqlTransaction& tx, SqlDialect dialect, const ClaimedTask& task, const PreparedStep& step,
    std::int64_t now_ms, const EagerDispatch& eager, bool run_locked) {
  RELIANT_ASSERT(step.result.ref_seq() == task.event_seq);
  auto recorded = dialect == SqlDialect::postgres
                      ? record_prepared_result_postgres(tx, task, step, now_ms, run_locked)
                      : record_prepared_result_sqlite(tx, task, step, now_ms);
  if (!recorded) return fail(recorded.error());
  if (!*recorded) return std::optional<Completion>();  // decide from the store instead
  Completion completion;
  completion.counted = true;
  completion.decided.emplace();
  if (auto ok = write_decision(tx, dialect, task.run_id, task.queue, step.decision, now_ms, eager,
                               *completion.decided, &step.decision_bodies);
      !ok) {
    return fail(ok.error());
  }
  completion.decided->committed = true;
  return std::optional<Completion>(std::move(completion));
}

}  // namespace reliant::engine
