// Starting workflow runs and reading them (engine_sql.h): a run's start (with its first decision,
// when its starter makes it), a run's summary, a user's runs, the history from an event on, an
// activity with its run's history, and a child run adopted by its parent.
#include "services/engine/engine_rows.h"
#include "services/engine/engine_sql.h"

#include <algorithm>

#include "base/assert.h"
#include "base/json_parse.h"
#include "services/storage/sql_row.h"

namespace reliant::engine {

namespace {

// The run's first decision, when its starter may write it (start_run's `decide_first`): one that
// schedules activities and nothing else, at most kFoldedEventsMax (which bounds the start
// statement's shapes), their tasks ready for any worker. Empty otherwise: a timer, a wait, an
// immediate end (an unknown workflow, an input it refuses), a wider first step stay a worker's,
// decided as every later step is.
std::vector<HistoryEvent> first_decision(const HistoryEvent& started,
                                         const WorkflowRegistry& workflows, std::int64_t now_ms) {
  auto state = RunState::fold({started});
  RELIANT_ASSERT(state.has_value());
  std::vector<HistoryEvent> events = decide_next(*state, workflows.find(state->workflow), now_ms);
  const bool only_activities =
      !events.empty() && std::ranges::all_of(events, [](const HistoryEvent& e) {
        return e.kind == EventKind::activity_scheduled;
      });
  if (!only_activities || events.size() > kFoldedEventsMax) events.clear();
  return events;
}

// Postgres: `sql`, the run's insert (parameters $1 to $8), made the statement of the whole start:
// with its first event and its decision task, or with the first decision's events and activity
// tasks when its starter made it — one round trip.
void with_first_step(std::string& sql, std::vector<SqlValue>& params, const NewRun& run,
                     const HistoryEvent& started, const std::vector<HistoryEvent>& decided,
                     std::int64_t now_ms) {
  std::vector<HistoryEvent> events{started};
  std::vector<std::string> bodies{started.body.dump()};
  if (decided.empty()) {
    sql = "WITH started_run AS (" + sql +
          ") INSERT INTO engine_tasks (id, queue, kind, run_id, event_seq, status, "
          "visible_at_ms, created_at_ms, updated_at_ms) VALUES ($9, $2, 'workflow', $1, 0, "
          "'ready', $5, $5, $5)";
    params.emplace_back(workflow_task_id(run.id, started.seq + 1));
  } else {
    std::string tasks;
    for (const HistoryEvent& e : decided) {
      const DecidedActivity activity =
          decided_activity(run.id, run.queue, e, now_ms, EagerDispatch{}, DecisionOutcome{});
      tasks += std::string(tasks.empty() ? "(" : ", (") +
               activity.values([&params](SqlValue value, bool) {
                 params.push_back(std::move(value));
                 return "$" + std::to_string(params.size());
               }) +
               ")";
      events.push_back(e);
      bodies.push_back(e.body.dump());
    }
    sql = "WITH started_run AS (" + sql + ") INSERT INTO engine_tasks (" +
          std::string(kActivityTaskColumns) + ") VALUES " + tasks;
  }
  prepend_events(sql, params, run.id, events, std::move(bodies));
}

}  // namespace

Result<void> start_run(SqlTransaction& tx, SqlDialect dialect, const NewRun& run,
                       std::int64_t now_ms, RunStartSent sent, const WorkflowRegistry* decide_first,
                       std::vector<std::string>* ready_tasks) {
  const std::string owner = run.input.is_object() && run.input.value("user_id", Json()).is_string()
                                ? run.input["user_id"].get<std::string>()
                                : std::string();
  const HistoryEvent started{1, EventKind::run_started,
                             Json{{"workflow", run.workflow}, {"input", run.input}}, now_ms};
  const std::vector<HistoryEvent> decided = decide_first != nullptr
                                                ? first_decision(started, *decide_first, now_ms)
                                                : std::vector<HistoryEvent>{};
  if (ready_tasks != nullptr) {
    if (decided.empty()) ready_tasks->push_back(workflow_task_id(run.id, started.seq + 1));
    for (const HistoryEvent& e : decided) {
      ready_tasks->push_back(activity_task(run.id, run.queue, e, std::nullopt).id);
    }
  }
  std::string sql =
      "INSERT INTO workflow_runs (id, namespace, workflow_name, status, input_json, created_at_ms, "
      "updated_at_ms, owner, parent_run_id, parent_key) VALUES ($1, $2, $3, 'running', $4, $5, $5, "
      "$6, $7, $8)";
  std::vector<SqlValue> params{run.id,
                               run.queue,
                               run.workflow,
                               run.input.dump(),
                               now_ms,
                               owner.empty() ? SqlValue(nullptr) : SqlValue(owner),
                               run.parent ? SqlValue(run.parent->run_id) : SqlValue(nullptr),
                               run.parent ? SqlValue(run.parent->key) : SqlValue(nullptr)};
  const bool together = dialect == SqlDialect::postgres;
  if (together) {
    with_first_step(sql, params, run, started, decided, now_ms);
    if (sent == RunStartSent::with_next) return tx.defer(sql, std::move(params));
  }
  const Result<std::int64_t> inserted = tx.execute(sql, params);
  if (!inserted) {
    if (inserted.error().code == ErrorCode::already_exists) {
      return fail(ErrorCode::already_exists,
                  "a workflow run with id " + run.id + " already exists");
    }
    return fail(inserted.error());
  }
  if (together) return {};
  if (auto ok = insert_event(tx, run.id, started); !ok) return fail(ok.error());
  if (decided.empty()) return insert_workflow_task(tx, run.id, run.queue, 2, now_ms);
  DecisionOutcome outcome;
  return write_decision(tx, dialect, run.id, run.queue, decided, now_ms, EagerDispatch{}, outcome);
}

namespace {

constexpr const char* kRunColumns =
    "id, namespace, workflow_name, status, input_json, result_json, error, created_at_ms, "
    "closed_at_ms";

Result<RunSummary> run_from(const SqlRecord& r);

}  // namespace

Result<bool> adopt_child_run(SqlTransaction& tx, const std::string& run_id,
                             const ParentRun& parent) {
  auto adopted = tx.execute(
      "UPDATE workflow_runs SET parent_run_id = $2, parent_key = $3 WHERE id = $1 AND status = "
      "'running' AND parent_run_id IS NULL",
      {run_id, parent.run_id, parent.key});
  if (!adopted) return fail(adopted.error());
  return *adopted > 0;
}

Result<RunSummary> get_run(SqlTransaction& tx, const std::string& run_id) {
  auto rows = tx.query(std::string("SELECT ") + kRunColumns + " FROM workflow_runs WHERE id = $1",
                       {run_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return fail(ErrorCode::not_found, "no workflow run " + run_id);
  return run_from(first_record(*rows));
}

Result<std::vector<RunSummary>> list_runs(SqlTransaction& tx, const std::string& owner,
                                          std::int64_t limit) {
  auto rows = tx.query(std::string("SELECT ") + kRunColumns +
                           " FROM workflow_runs WHERE owner = $1 ORDER BY created_at_ms DESC, "
                           "id DESC LIMIT $2",
                       {owner, limit});
  if (!rows) return fail(rows.error());
  std::vector<RunSummary> runs;
  for (const SqlRecord& row : records(*rows)) {
    auto run = run_from(row);
    if (!run) return fail(run.error());
    runs.push_back(std::move(*run));
  }
  return runs;
}

namespace {

Result<RunSummary> run_from(const SqlRecord& r) {
  RunSummary run;
  run.id = r.text("id");
  run.queue = r.text("namespace");
  run.workflow = r.text("workflow_name");
  auto status = r.enumerated("status", kRunStatusNames);
  if (!status) return fail(status.error());
  run.status = *status;
  run.input = parse_json_or_discarded(r.text("input_json"), kStoredJsonDepthMax);
  if (auto result = r.optional_text("result_json"))
    run.result = parse_json_or_discarded(*result, kStoredJsonDepthMax);
  run.error = r.optional_text("error");
  run.created_at_ms = r.integer("created_at_ms");
  run.closed_at_ms = r.optional_integer("closed_at_ms");
  return run;
}

}  // namespace

Result<std::vector<HistoryEvent>> load_history(SqlTransaction& tx, const std::string& run_id) {
  return load_history_after(tx, run_id, 0);
}

Result<std::vector<HistoryEvent>> load_history_after(SqlTransaction& tx, const std::string& run_id,
                                                     std::int64_t after_seq) {
  const SqlStatement statement = history_after(run_id, after_seq);
  auto rows = tx.query(statement.sql, statement.params);
  if (!rows) return fail(rows.error());
  return history_of(run_id, *rows);
}

SqlStatement history_after(const std::string& run_id, std::int64_t after_seq) {
  return {
      "SELECT seq, kind, body_json, created_at_ms FROM workflow_history WHERE run_id = $1 AND seq "
      "> $2 ORDER BY seq",
      {run_id, after_seq}};
}

Result<std::vector<HistoryEvent>> history_of(const std::string& run_id, const SqlRows& rows) {
  std::vector<HistoryEvent> history;
  history.reserve(rows.rows.size());
  for (const SqlRecord& r : records(rows)) {
    auto kind = parse_event_kind(r.text("kind"));
    if (!kind) return fail(ErrorCode::internal, "run " + run_id + ": " + kind.error().message);
    Json body = parse_json_or_discarded(r.text("body_json"), kStoredJsonDepthMax);
    const std::int64_t seq = r.integer("seq");
    if (!body.is_object()) {
      return fail(ErrorCode::internal, "run " + run_id + ": history event " + std::to_string(seq) +
                                           " is not a JSON object");
    }
    history.push_back(HistoryEvent{seq, *kind, std::move(body), r.integer("created_at_ms")});
  }
  return history;
}

Result<KeptRun> kept_run_of(const std::vector<HistoryEvent>& history) {
  if (history.empty()) return fail(ErrorCode::internal, "no history");
  auto state = RunState::fold(history);
  if (!state) return fail(ErrorCode::internal, state.error().message);
  return KeptRun{std::move(*state), event_digest(history.back())};
}

std::optional<ScheduledActivity> scheduled_in(const RunState& state, std::int64_t event_seq) {
  const auto scheduled = state.activities.find(event_seq);
  if (scheduled == state.activities.end()) return std::nullopt;
  // A run's row ends in the transaction that appends its terminal event (close_run).
  return ScheduledActivity{scheduled->second.name, scheduled->second.input,
                           state.terminal.has_value()};
}

Result<ScheduledActivity> load_scheduled_activity_and_run(SqlTransaction& tx,
                                                          const ClaimedTask& task, KeptRun& kept) {
  auto history = load_history(tx, task.run_id);
  if (!history) return fail(history.error());
  auto folded = kept_run_of(*history);
  if (!folded)
    return fail(ErrorCode::internal, "run " + task.run_id + ": " + folded.error().message);
  auto activity = scheduled_in(folded->state, task.event_seq);
  if (!activity) {
    return fail(ErrorCode::internal, "run " + task.run_id + " has no activity scheduled at seq " +
                                         std::to_string(task.event_seq));
  }
  kept = std::move(*folded);
  return std::move(*activity);
}

}  // namespace reliant::engine
