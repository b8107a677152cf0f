// The row writes the engine's appends are made of (engine_sql.cc defines them), shared by the
// engine's SQL files and by nothing else: a decision task's id, finishing a task, inserting a
// history event, locking a run, and writing a decision's events with the tasks they create.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "services/engine/engine_sql.h"

namespace reliant::engine {

// At most this many decision events are written by one statement on Postgres with what they
// follow (a step's result, a run's start); a longer decision, rarer, takes statements of its own
// (write_decision) or is left to a worker. It bounds the statements' shapes, each prepared once
// per connection.
constexpr std::size_t kFoldedEventsMax = 3;

// The id of the decision task a run's event `next_seq` - 1 makes ready (one per event at most).
std::string workflow_task_id(const std::string& run_id, std::int64_t next_seq);
// The id of the timer task a timer_started event of seq `timer_seq` creates.
std::string timer_task_id(const std::string& run_id, std::int64_t timer_seq);

// `items`, ", "-separated in order. A braced list's elements are evaluated left to right, so
// parameters they add are numbered in the order they appear (a chain of `+` has no such order).
std::string listed(std::initializer_list<std::string> items);

// Deletes the task: a finished task's work is in its run's history.
Result<void> finish_task(SqlTransaction& tx, const std::string& task_id);

// A ready workflow task for the run's event `next_seq` - 1; none when one exists already.
Result<void> insert_workflow_task(SqlTransaction& tx, const std::string& run_id,
                                  const std::string& queue, std::int64_t next_seq,
                                  std::int64_t now_ms);
// Postgres: `sql` (with `params`) and, in the same statement, the inserts of `events` (one run's,
// `bodies` their bodies dumped, in order) as a data-modifying CTE named appended_event — one
// round trip for all. `sql` may begin with a WITH of its own.
void prepend_events(std::string& sql, std::vector<SqlValue>& params, const std::string& run_id,
                    std::span<const HistoryEvent> events, std::vector<std::string> bodies);

// `body_json` is e.body.dump(), made by the caller when it has it already.
Result<void> insert_event(SqlTransaction& tx, const std::string& run_id, const HistoryEvent& e,
                          std::string body_json);
Result<void> insert_event(SqlTransaction& tx, const std::string& run_id, const HistoryEvent& e);

struct LockedRun {
  std::string queue;
  RunStatus status = RunStatus::running;
};

// Locks the run row for the rest of the transaction (SQLite: the single writer already holds it);
// nullopt when there is no such run.
Result<std::optional<LockedRun>> lock_run(SqlTransaction& tx, SqlDialect dialect,
                                          const std::string& run_id);
// lock_run in two halves, for a caller that sends its statement with others
// (SqlTransaction::query_together): the statement, and the run its rows name.
SqlStatement lock_run_statement(SqlDialect dialect, const std::string& run_id);
Result<std::optional<LockedRun>> locked_run(const SqlRows& rows);

// Writes a decision's events and the tasks they create: activities and timers ready for any
// worker, except up to `eager.limit` activities inserted already leased to `eager.worker_id`
// (returned in `outcome`). The caller holds the run lock and decided on the history read under
// it. `bodies`, when given, holds each event's body already dumped, in the same order.
// `ends_body`: nothing follows in the transaction, whose COMMIT may then go with the last
// statement (SqlTransaction::query_last). `activity_chained`: the decision's activity is
// answered later in the same transaction (PreparedStep::next_chained): its event is written,
// its task is not.
Result<void> write_decision(SqlTransaction& tx, SqlDialect dialect, const std::string& run_id,
                            const std::string& queue, const std::vector<HistoryEvent>& events,
                            std::int64_t now_ms, const EagerDispatch& eager,
                            DecisionOutcome& outcome,
                            const std::vector<std::string>* bodies = nullptr,
                            bool ends_body = false, bool activity_chained = false);

}  // namespace reliant::engine
