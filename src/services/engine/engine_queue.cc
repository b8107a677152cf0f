// The engine's task queue (engine_sql.h): claiming ready tasks with a lease, fairly across runs;
// the lease an activity takes when it is dispatched eagerly; heartbeats that extend a lease;
// leases that expired requeued or failed; and what is due next.
#include "services/engine/engine_sql.h"

#include "base/assert.h"
#include "base/json_parse.h"
#include "services/storage/sql_row.h"

namespace reliant::engine {

namespace {

// Leases the tasks `where` selects to a worker. Parameters: $2 now, $4 worker id, $5 the lease
// of a workflow task; `where` may use $1 and $3 (and must mention both, for Postgres' typing).
// An activity's lease is its heartbeat timeout when it has one, else its start-to-close time.
// Leases the tasks `where` picks ($2: now, $4: the worker, $5: a decision's lease).
std::string lease_tasks_sql(const std::string& where) {
  return "UPDATE engine_tasks SET status = 'leased', lease_owner = $4, attempt = attempt + 1, "
         "leased_at_ms = $2, "
         "updated_at_ms = $2, lease_expires_at_ms = CAST($2 AS BIGINT) + CASE "
         "WHEN kind = 'activity' AND heartbeat_timeout_ms > 0 AND heartbeat_timeout_ms < "
         "start_to_close_ms "
         "THEN heartbeat_timeout_ms WHEN kind = 'activity' AND start_to_close_ms > 0 THEN "
         "start_to_close_ms "
         "ELSE CAST($5 AS BIGINT) END "
         "WHERE " +
         where +
         " RETURNING id, kind, run_id, event_seq, attempt, max_attempts, lease_expires_at_ms, "
         "start_to_close_ms, heartbeat_timeout_ms, queue, (SELECT owner FROM workflow_runs r "
         "WHERE r.id = engine_tasks.run_id) AS owner";
}

// The leased tasks among `rows` (rows without an id are not tasks), sorted by id: RETURNING has
// no order, and processing order must be deterministic.
Result<std::vector<ClaimedTask>> leased_tasks(const SqlRows& rows) {
  std::vector<ClaimedTask> claimed;
  for (const SqlRecord& r : records(rows)) {
    if (!r.optional_text("id")) continue;
    auto kind = parse_task_kind(r.text("kind"));
    if (!kind) return fail(kind.error());
    claimed.push_back(ClaimedTask{.id = r.text("id"),
                                  .kind = *kind,
                                  .run_id = r.text("run_id"),
                                  .event_seq = r.integer("event_seq"),
                                  .attempt = r.integer("attempt"),
                                  .attempts_max = r.integer("max_attempts"),
                                  .lease_expires_at_ms = r.integer("lease_expires_at_ms"),
                                  .start_to_close_ms = r.integer("start_to_close_ms"),
                                  .heartbeat_timeout_ms = r.integer("heartbeat_timeout_ms"),
                                  .queue = r.text("queue"),
                                  .owner = r.optional_text("owner").value_or("")});
  }
  std::sort(claimed.begin(), claimed.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return claimed;
}

Result<std::vector<ClaimedTask>> lease_tasks(SqlTransaction& tx, const std::string& where,
                                             const std::vector<SqlValue>& params) {
  auto rows = tx.query(lease_tasks_sql(where), params);
  if (!rows) return fail(rows.error());
  return leased_tasks(*rows);
}

// Picks up to $3 ready tasks of queue $1 visible at $2, oldest first; with `fair`, none of a
// run whose owner is in the JSON array $6. (Without, the statement is the one it always was:
// the common case pays nothing for fairness.)
std::string pick_ready_sql(SqlDialect dialect, bool fair) {
  std::string pick =
      "id IN (SELECT id FROM engine_tasks WHERE queue = $1 AND status = 'ready' AND "
      "visible_at_ms <= $2";
  if (fair) {
    pick += dialect == SqlDialect::postgres
                ? " AND NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = engine_tasks.run_id "
                  "AND r.owner IN (SELECT json_array_elements_text(CAST($6 AS json))))"
                : " AND NOT EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = engine_tasks.run_id "
                  "AND r.owner IN (SELECT value FROM json_each($6)))";
  }
  pick += " ORDER BY visible_at_ms, id LIMIT $3";
  if (dialect == SqlDialect::postgres) pick += " FOR UPDATE SKIP LOCKED";
  return pick + ")";
}

std::vector<SqlValue> claim_params(const std::string& queue, std::int64_t now_ms,
                                   std::int64_t batch, const std::string& worker_id,
                                   std::int64_t lease_ms,
                                   const std::vector<std::string>& owners_at_share) {
  std::vector<SqlValue> params{queue, now_ms, batch, worker_id, lease_ms};
  if (!owners_at_share.empty()) params.emplace_back(Json(owners_at_share).dump());
  return params;
}

}  // namespace

Result<std::vector<ClaimedTask>> claim_tasks(SqlTransaction& tx, SqlDialect dialect,
                                             const std::string& queue, const std::string& worker_id,
                                             std::int64_t now_ms, std::int64_t lease_ms,
                                             std::int64_t batch,
                                             const std::vector<std::string>& owners_at_share) {
  return lease_tasks(tx, pick_ready_sql(dialect, !owners_at_share.empty()),
                     claim_params(queue, now_ms, batch, worker_id, lease_ms, owners_at_share));
}

Result<Claim> claim_last(SqlTransaction& tx, SqlDialect dialect, const std::string& queue,
                         const std::string& worker_id, std::int64_t now_ms, std::int64_t lease_ms,
                         std::int64_t batch, const std::vector<std::string>& owners_at_share) {
  Claim claim;
  if (dialect != SqlDialect::postgres) {
    auto claimed =
        claim_tasks(tx, dialect, queue, worker_id, now_ms, lease_ms, batch, owners_at_share);
    if (!claimed) return fail(claimed.error());
    claim.claimed = std::move(*claimed);
    // A full batch: the worker claims again at once, so when the queue falls due does not matter.
    if (static_cast<std::int64_t>(claim.claimed.size()) == batch) return claim;
    auto due = next_due(tx, queue);
    if (!due) return fail(due.error());
    claim.due = *due;
    return claim;
  }
  // One statement. Its reads see the table as it was before its own update, so the tasks it
  // claims are left out of the ready ones and added to the leased ones by hand. One row per
  // claimed task, or a single row without an id when it claims none; each row carries the
  // queue's next due times.
  auto rows = tx.query_last(
      "WITH claimed AS (" + lease_tasks_sql(pick_ready_sql(dialect, !owners_at_share.empty())) +
          "), due AS (SELECT (SELECT MIN(visible_at_ms) FROM engine_tasks WHERE queue = $1 AND "
          "status = 'ready' AND id NOT IN (SELECT id FROM claimed)) AS due_visible_at_ms, "
          "LEAST((SELECT MIN(lease_expires_at_ms) FROM engine_tasks WHERE status = 'leased'), "
          "(SELECT MIN(lease_expires_at_ms) FROM claimed)) AS due_lease_expires_at_ms) "
          "SELECT claimed.*, due.* FROM due LEFT JOIN claimed ON TRUE",
      claim_params(queue, now_ms, batch, worker_id, lease_ms, owners_at_share));
  if (!rows) return fail(rows.error());
  auto claimed = leased_tasks(*rows);
  if (!claimed) return fail(claimed.error());
  claim.claimed = std::move(*claimed);
  if (!rows->rows.empty()) {
    const SqlRecord first = first_record(*rows);
    claim.due = NextDue{first.optional_integer("due_visible_at_ms"),
                        first.optional_integer("due_lease_expires_at_ms")};
  }
  return claim;
}

namespace {

// The history claim_named_tasks' statement read: one row's `events`, a JSON array of [seq, kind,
// body, at], as rows of workflow_history for history_of.
Result<std::vector<HistoryEvent>> named_claim_history(const SqlRows& rows,
                                                      const std::string& run_id) {
  Json events;
  for (const SqlRecord& r : records(rows)) {
    if (auto text = r.optional_text("events")) events = parse_json_or_discarded(*text, 4);
  }
  SqlRows history{{"seq", "kind", "body_json", "created_at_ms"}, {}};
  if (events.is_array()) {
    for (const Json& e : events) {
      if (!e.is_array() || e.size() != 4 || !e[0].is_number_integer() || !e[1].is_string() ||
          !e[2].is_string() || !e[3].is_number_integer()) {
        return fail(ErrorCode::internal, "run " + run_id + ": a history row that is not one");
      }
      history.rows.push_back({e[0].get<std::int64_t>(), e[1].get<std::string>(),
                              e[2].get<std::string>(), e[3].get<std::int64_t>()});
    }
  }
  return history_of(run_id, history);
}

}  // namespace

Result<NamedClaim> claim_named_tasks(SqlTransaction& tx, SqlDialect dialect,
                                     const std::string& run_id,
                                     const std::vector<std::string>& task_ids,
                                     const std::string& queue, const std::string& worker_id,
                                     std::int64_t now_ms, std::int64_t lease_ms) {
  RELIANT_ASSERT(!task_ids.empty());
  NamedClaim claim;
  const std::vector<SqlValue> params{dialect == SqlDialect::postgres
                                         ? SqlValue(postgres_text_array(task_ids))
                                         : SqlValue(Json(task_ids).dump()),
                                     now_ms,
                                     queue,
                                     worker_id,
                                     lease_ms,
                                     run_id};
  if (dialect != SqlDialect::postgres) {
    auto claimed = lease_tasks(tx,
                               "id IN (SELECT value FROM json_each($1)) AND queue = $3 AND "
                               "status = 'ready' AND visible_at_ms <= $2 AND run_id = $6",
                               params);
    if (!claimed) return fail(claimed.error());
    claim.claimed = std::move(*claimed);
    if (claim.claimed.empty()) return claim;
    auto history = load_history(tx, run_id);
    if (!history) return fail(history.error());
    claim.history = std::move(*history);
    return claim;
  }
  // The history as one JSON array of [seq, kind, body, at] (the body as stored, a string), read
  // only when a task was claimed; a row per claimed task, the first (by id) with the array.
  static const std::string sql =
      "WITH claimed AS (" +
      lease_tasks_sql(
          "id IN (SELECT id FROM engine_tasks WHERE id = ANY(CAST($1 AS TEXT[])) AND "
          "queue = $3 AND status = 'ready' AND visible_at_ms <= $2 AND run_id = $6 "
          "ORDER BY id FOR UPDATE SKIP LOCKED)") +
      "), history AS (SELECT json_agg(json_build_array(seq, kind, body_json, created_at_ms) ORDER "
      "BY seq) AS events FROM workflow_history WHERE run_id = $6 AND EXISTS (SELECT 1 FROM "
      "claimed)) SELECT claimed.*, CASE WHEN claimed.id = (SELECT MIN(id) FROM claimed) THEN "
      "history.events END AS events FROM claimed, history";
  auto rows = tx.query_last(sql, params);
  if (!rows) return fail(rows.error());
  auto claimed = leased_tasks(*rows);
  if (!claimed) return fail(claimed.error());
  claim.claimed = std::move(*claimed);
  if (claim.claimed.empty()) return claim;
  // A claim that committed (alone in its transaction) must not fail over its history: its tasks
  // would wait out their leases. History that does not read leaves them to read their own (the
  // worker processes them as it does polled tasks).
  if (auto history = named_claim_history(*rows, run_id)) claim.history = std::move(*history);
  return claim;
}

namespace {

// How long an activity's lease lasts: its heartbeat timeout when it has one (shorter than its
// start-to-close time), else its start-to-close time. The rule lease_tasks applies in SQL.
std::int64_t activity_lease_ms(std::int64_t start_to_close_ms, std::int64_t heartbeat_timeout_ms) {
  if (heartbeat_timeout_ms > 0 && heartbeat_timeout_ms < start_to_close_ms)
    return heartbeat_timeout_ms;
  return start_to_close_ms;
}

}  // namespace

ClaimedTask activity_task(const std::string& run_id, const std::string& queue,
                          const HistoryEvent& e, std::optional<std::int64_t> leased_at_ms) {
  RELIANT_ASSERT(e.kind == EventKind::activity_scheduled);
  ClaimedTask task{.id = run_id + ":act:" + std::to_string(e.seq),
                   .kind = TaskKind::activity,
                   .run_id = run_id,
                   .event_seq = e.seq,
                   .attempt = 0,
                   .attempts_max = e.body.value("max_attempts", std::int64_t{1}),
                   .lease_expires_at_ms = 0,
                   .start_to_close_ms = e.body.value("start_to_close_ms", std::int64_t{0}),
                   .heartbeat_timeout_ms = e.body.value("heartbeat_timeout_ms", std::int64_t{0}),
                   .queue = queue};
  if (leased_at_ms) {
    // The lease a claim would take (eager dispatch): attempt 1, held by the decider.
    task.attempt = 1;
    task.lease_expires_at_ms =
        *leased_at_ms + activity_lease_ms(task.start_to_close_ms, task.heartbeat_timeout_ms);
  }
  return task;
}

Result<bool> heartbeat_activity(SqlTransaction& tx, const ClaimedTask& task, std::int64_t now_ms) {
  auto extended = tx.execute(
      "UPDATE engine_tasks SET lease_expires_at_ms = CASE "
      "WHEN CAST($3 AS BIGINT) + heartbeat_timeout_ms < leased_at_ms + start_to_close_ms "
      "THEN CAST($3 AS BIGINT) + heartbeat_timeout_ms ELSE leased_at_ms + start_to_close_ms END, "
      "updated_at_ms = $3 "
      "WHERE id = $1 AND status = 'leased' AND attempt = $2 AND heartbeat_timeout_ms > 0 "
      // A run that ended (cancelled) wants no more of its activities: the attempt stops.
      "AND EXISTS (SELECT 1 FROM workflow_runs r WHERE r.id = engine_tasks.run_id AND "
      "r.status = 'running')",
      {task.id, task.attempt, now_ms});
  if (!extended) return fail(extended.error());
  return *extended == 1;
}

Result<std::int64_t> requeue_expired(SqlTransaction& tx, SqlDialect dialect, std::int64_t now_ms,
                                     std::int64_t tasks_max) {
  // No row locks here (they would be taken before the run row's, against the lock order):
  // every change below is conditional on the lease, so concurrent reapers cannot both act.
  auto rows = tx.query(
      "SELECT id, kind, run_id, event_seq, attempt, max_attempts, queue, start_to_close_ms, "
      "leased_at_ms, lease_expires_at_ms FROM engine_tasks "
      "WHERE status = 'leased' AND lease_expires_at_ms < $1 ORDER BY lease_expires_at_ms, id LIMIT "
      "$2",
      {now_ms, tasks_max});
  if (!rows) return fail(rows.error());
  for (const SqlRecord& r : records(*rows)) {
    auto kind = parse_task_kind(r.text("kind"));
    if (!kind) return fail(kind.error());
    // Only what retrying or failing the attempt reads: the lease is over.
    const ClaimedTask task{.id = r.text("id"),
                           .kind = *kind,
                           .run_id = r.text("run_id"),
                           .event_seq = r.integer("event_seq"),
                           .attempt = r.integer("attempt"),
                           .attempts_max = r.integer("max_attempts"),
                           .queue = r.text("queue")};
    if (task.kind == TaskKind::activity) {
      // A lease that ran to the attempt's start-to-close deadline is that timeout, whoever
      // notices it first; a shorter one (heartbeats) means the worker went silent.
      const std::int64_t start_to_close_ms = r.integer("start_to_close_ms");
      const bool deadline_passed =
          start_to_close_ms > 0 &&
          r.integer("lease_expires_at_ms") >= r.integer("leased_at_ms") + start_to_close_ms;
      const std::string why = deadline_passed
                                  ? start_to_close_exceeded(milliseconds(start_to_close_ms))
                                  : "attempt " + std::to_string(task.attempt) +
                                        " ended without a result (lease expired)";
      if (auto ok = fail_activity_attempt(tx, dialect, task, why, now_ms,
                                          activity_retry_delay_ms(task.attempt));
          !ok) {
        return fail(ok.error());
      }
      continue;
    }
    // Deciding and firing are idempotent: make them available again.
    auto again = tx.execute(
        "UPDATE engine_tasks SET status = 'ready', lease_owner = NULL, lease_expires_at_ms = NULL, "
        "visible_at_ms = $3, updated_at_ms = $3 WHERE id = $1 AND status = 'leased' AND attempt = "
        "$2",
        {task.id, task.attempt, now_ms});
    if (!again) return fail(again.error());
  }
  return static_cast<std::int64_t>(rows->rows.size());
}

Result<NextDue> next_due(SqlTransaction& tx, const std::string& queue) {
  // Both from the partial indexes on ready and leased tasks.
  auto rows = tx.query(
      "SELECT (SELECT MIN(visible_at_ms) FROM engine_tasks WHERE queue = $1 AND status = "
      "'ready') AS visible_at_ms, (SELECT MIN(lease_expires_at_ms) FROM engine_tasks WHERE "
      "status = 'leased') AS lease_expires_at_ms",
      {queue});
  if (!rows) return fail(rows.error());
  const SqlRecord r = first_record(*rows);
  return NextDue{r.optional_integer("visible_at_ms"), r.optional_integer("lease_expires_at_ms")};
}

}  // namespace reliant::engine
