// Reading workflow runs and their histories (engine_sql.h): a run's summary, a user's runs, the
// history from an event on, and a child run adopted by its parent.
#include "services/engine/engine_sql.h"

#include "base/assert.h"
#include "base/json_parse.h"
#include "services/storage/sql_row.h"

namespace reliant::engine {

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

}  // namespace reliant::engine
