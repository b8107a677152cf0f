// Triggers and their firings over SQL (triggers.h).
#include "services/storage/triggers.h"

#include "base/json_parse.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

constexpr const char* kTriggerColumns =
    "id, user_id, project_id, name, kind, workflow, declaration, spec_json, mapping_json, "
    "params_json, message, enabled, token_hash, sealed_secret, anchor_ms, considered_ms, due_ms, "
    "created_at_ms, updated_at_ms";
constexpr const char* kFiringColumns =
    "id, trigger_id, user_id, firing_key, kind, instant_ms, status, detail, chat_id, run_id, "
    "payload_json, created_at_ms";

// A JSON column: what this process wrote, so a cell that does not parse is a corrupt row.
Result<Json> json_cell(const SqlRecord& row, std::string_view column) {
  auto parsed = parse_json(row.text(column));
  if (!parsed) {
    return fail(ErrorCode::internal, "triggers: column " + std::string(column) +
                                         " is not JSON: " + parsed.error().message);
  }
  return parsed;
}

Result<TriggerRecord> trigger_of(const SqlRecord& row) {
  TriggerRecord t;
  t.id = row.text("id");
  t.user_id = row.text("user_id");
  t.project_id = row.text("project_id");
  t.name = row.text("name");
  auto kind = row.enumerated("kind", kTriggerKindNames);
  if (!kind) return fail(kind.error());
  t.kind = *kind;
  t.workflow = row.text("workflow");
  t.declaration = row.text("declaration");
  for (auto [column, field] :
       {std::pair{"spec_json", &t.spec}, std::pair{"mapping_json", &t.mapping},
        std::pair{"params_json", &t.params}}) {
    auto value = json_cell(row, column);
    if (!value) return fail(value.error());
    *field = std::move(*value);
  }
  t.message = row.text("message");
  t.enabled = row.integer("enabled") != 0;
  t.token_hash = row.text("token_hash");
  t.sealed_secret = row.text("sealed_secret");
  t.anchor_ms = row.integer("anchor_ms");
  t.considered_ms = row.integer("considered_ms");
  t.due_ms = row.optional_integer("due_ms");
  t.created_at_ms = row.integer("created_at_ms");
  t.updated_at_ms = row.integer("updated_at_ms");
  return t;
}

Result<std::vector<TriggerRecord>> triggers_of(const SqlRows& rows) {
  std::vector<TriggerRecord> out;
  for (const SqlRecord& row : records(rows)) {
    auto trigger = trigger_of(row);
    if (!trigger) return fail(trigger.error());
    out.push_back(std::move(*trigger));
  }
  return out;
}

Result<FiringRecord> firing_of(const SqlRecord& row) {
  FiringRecord f;
  f.id = row.text("id");
  f.trigger_id = row.optional_text("trigger_id").value_or("");
  f.user_id = row.text("user_id");
  f.key = row.text("firing_key");
  f.kind = row.text("kind");
  f.instant_ms = row.integer("instant_ms");
  auto status = row.enumerated("status", kFiringStatusNames);
  if (!status) return fail(status.error());
  f.status = *status;
  f.detail = row.text("detail");
  f.chat_id = row.text("chat_id");
  f.run_id = row.text("run_id");
  auto payload = json_cell(row, "payload_json");
  if (!payload) return fail(payload.error());
  f.payload = std::move(*payload);
  f.created_at_ms = row.integer("created_at_ms");
  return f;
}

Result<std::vector<FiringRecord>> firings_of(const SqlRows& rows) {
  std::vector<FiringRecord> out;
  for (const SqlRecord& row : records(rows)) {
    auto firing = firing_of(row);
    if (!firing) return fail(firing.error());
    out.push_back(std::move(*firing));
  }
  return out;
}

SqlValue due_cell(const std::optional<std::int64_t>& due_ms) {
  return due_ms ? SqlValue(*due_ms) : SqlValue(nullptr);
}

std::string select_triggers(const std::string& where) {
  return std::string("SELECT ") + kTriggerColumns + " FROM triggers " + where;
}

}  // namespace

Result<void> insert_trigger(SqlTransaction& tx, const TriggerRecord& t) {
  auto inserted = tx.execute(
      "INSERT INTO triggers (id, user_id, project_id, name, kind, workflow, declaration, "
      "spec_json, mapping_json, params_json, message, enabled, token_hash, sealed_secret, "
      "anchor_ms, considered_ms, due_ms, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, "
      "$6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
      {t.id, t.user_id, t.project_id, t.name, std::string(name_of(kTriggerKindNames, t.kind)),
       t.workflow, t.declaration, t.spec.dump(), t.mapping.dump(), t.params.dump(), t.message,
       std::int64_t{t.enabled ? 1 : 0}, t.token_hash, t.sealed_secret, t.anchor_ms, t.considered_ms,
       due_cell(t.due_ms), t.created_at_ms, t.updated_at_ms});
  if (!inserted) {
    if (inserted.error().code == ErrorCode::already_exists) {
      return fail(ErrorCode::already_exists, "a trigger named '" + t.name + "' exists already");
    }
    return fail(inserted.error());
  }
  return {};
}

Result<std::optional<TriggerRecord>> find_trigger_by_id(SqlTransaction& tx, const std::string& id) {
  auto rows = tx.query(select_triggers("WHERE id = $1"), {id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<TriggerRecord>();
  auto trigger = trigger_of(first_record(*rows));
  if (!trigger) return fail(trigger.error());
  return std::optional<TriggerRecord>(std::move(*trigger));
}

Result<TriggerRecord> find_trigger(SqlTransaction& tx, const std::string& user_id,
                                   const std::string& id) {
  auto found = find_trigger_by_id(tx, id);
  if (!found) return fail(found.error());
  // Another user's trigger is as absent as one that never was.
  if (!*found || (*found)->user_id != user_id) {
    return fail(ErrorCode::not_found, "no trigger " + id);
  }
  return std::move(**found);
}

Result<std::vector<TriggerRecord>> list_triggers(SqlTransaction& tx, const std::string& user_id,
                                                 const std::optional<std::string>& project_id) {
  auto rows = project_id
                  ? tx.query(select_triggers("WHERE user_id = $1 AND project_id = $2 ORDER BY "
                                             "name, id"),
                             {user_id, *project_id})
                  : tx.query(select_triggers("WHERE user_id = $1 ORDER BY name, id"), {user_id});
  if (!rows) return fail(rows.error());
  return triggers_of(*rows);
}

Result<std::size_t> count_triggers(SqlTransaction& tx, const std::string& user_id) {
  auto rows = tx.query("SELECT COUNT(*) AS n FROM triggers WHERE user_id = $1", {user_id});
  if (!rows) return fail(rows.error());
  return static_cast<std::size_t>(first_record(*rows).integer("n"));
}

Result<void> update_trigger(SqlTransaction& tx, const TriggerRecord& t) {
  auto updated = tx.execute(
      "UPDATE triggers SET project_id = $2, name = $3, kind = $4, workflow = $5, declaration = "
      "$6, spec_json = $7, mapping_json = $8, params_json = $9, message = $10, enabled = $11, "
      "token_hash = $12, sealed_secret = $13, anchor_ms = $14, considered_ms = $15, due_ms = $16, "
      "updated_at_ms = $17 WHERE id = $1",
      {t.id, t.project_id, t.name, std::string(name_of(kTriggerKindNames, t.kind)), t.workflow,
       t.declaration, t.spec.dump(), t.mapping.dump(), t.params.dump(), t.message,
       std::int64_t{t.enabled ? 1 : 0}, t.token_hash, t.sealed_secret, t.anchor_ms, t.considered_ms,
       due_cell(t.due_ms), t.updated_at_ms});
  if (!updated) {
    if (updated.error().code == ErrorCode::already_exists) {
      return fail(ErrorCode::already_exists, "a trigger named '" + t.name + "' exists already");
    }
    return fail(updated.error());
  }
  if (*updated == 0) return fail(ErrorCode::not_found, "no trigger " + t.id);
  return {};
}

Result<void> delete_trigger(SqlTransaction& tx, const std::string& user_id, const std::string& id) {
  auto deleted = tx.execute("DELETE FROM triggers WHERE id = $1 AND user_id = $2", {id, user_id});
  if (!deleted) return fail(deleted.error());
  if (*deleted == 0) return fail(ErrorCode::not_found, "no trigger " + id);
  return {};
}

Result<std::vector<TriggerRecord>> claim_due_schedules(SqlTransaction& tx, SqlDialect dialect,
                                                       std::int64_t now_ms, std::size_t limit) {
  std::string sql = select_triggers(
      "WHERE due_ms IS NOT NULL AND due_ms <= $1 AND enabled = 1 AND kind = 'schedule' ORDER BY "
      "due_ms, id LIMIT $2");
  if (dialect == SqlDialect::postgres) sql += " FOR UPDATE SKIP LOCKED";
  auto rows = tx.query(sql, {now_ms, static_cast<std::int64_t>(limit)});
  if (!rows) return fail(rows.error());
  return triggers_of(*rows);
}

Result<std::optional<std::int64_t>> next_schedule_due(SqlTransaction& tx) {
  auto rows = tx.query(
      "SELECT MIN(due_ms) AS due FROM triggers WHERE due_ms IS NOT NULL AND enabled = 1 AND "
      "kind = 'schedule'",
      {});
  if (!rows) return fail(rows.error());
  return first_record(*rows).optional_integer("due");
}

Result<std::vector<TriggerRecord>> event_triggers(SqlTransaction& tx, const std::string& user_id) {
  auto rows = tx.query(
      select_triggers("WHERE user_id = $1 AND kind = 'workflow_event' AND enabled = 1 ORDER BY id"),
      {user_id});
  if (!rows) return fail(rows.error());
  return triggers_of(*rows);
}

Result<std::vector<std::string>> event_trigger_users(SqlTransaction& tx) {
  auto rows = tx.query(
      "SELECT DISTINCT user_id FROM triggers WHERE kind = 'workflow_event' AND enabled = 1 ORDER "
      "BY user_id",
      {});
  if (!rows) return fail(rows.error());
  std::vector<std::string> users;
  for (const SqlRecord& row : records(*rows)) users.push_back(row.text("user_id"));
  return users;
}

Result<bool> insert_firing_once(SqlTransaction& tx, SqlDialect dialect, const FiringRecord& f) {
  (void)dialect;  // ON CONFLICT DO NOTHING reads the same on both
  auto inserted = tx.execute(
      "INSERT INTO trigger_firings (id, trigger_id, user_id, firing_key, kind, instant_ms, "
      "status, detail, chat_id, run_id, payload_json, created_at_ms) VALUES ($1, $2, $3, $4, $5, "
      "$6, $7, $8, $9, $10, $11, $12) ON CONFLICT (trigger_id, firing_key) DO NOTHING",
      {f.id, f.trigger_id, f.user_id, f.key, f.kind, f.instant_ms,
       std::string(name_of(kFiringStatusNames, f.status)), f.detail, f.chat_id, f.run_id,
       f.payload.dump(), f.created_at_ms});
  if (!inserted) return fail(inserted.error());
  return *inserted > 0;
}

Result<void> update_firing(SqlTransaction& tx, const FiringRecord& f) {
  auto updated = tx.execute(
      "UPDATE trigger_firings SET status = $2, detail = $3, chat_id = $4, run_id = $5 WHERE id = "
      "$1",
      {f.id, std::string(name_of(kFiringStatusNames, f.status)), f.detail, f.chat_id, f.run_id});
  if (!updated) return fail(updated.error());
  return {};
}

Result<FiringRecord> find_firing(SqlTransaction& tx, const std::string& trigger_id,
                                 const std::string& key) {
  auto rows = tx.query(std::string("SELECT ") + kFiringColumns +
                           " FROM trigger_firings WHERE trigger_id = $1 AND firing_key = $2",
                       {trigger_id, key});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return fail(ErrorCode::not_found, "no firing " + key);
  return firing_of(first_record(*rows));
}

Result<std::vector<FiringRecord>> list_firings(SqlTransaction& tx, const std::string& trigger_id,
                                               std::int64_t limit) {
  auto rows = tx.query(std::string("SELECT ") + kFiringColumns +
                           " FROM trigger_firings WHERE trigger_id = $1 ORDER BY created_at_ms "
                           "DESC, instant_ms DESC, id DESC LIMIT $2",
                       {trigger_id, std::clamp<std::int64_t>(limit, 1, kFiringsListedMax)});
  if (!rows) return fail(rows.error());
  return firings_of(*rows);
}

Result<std::vector<FiringRecord>> queued_firings(SqlTransaction& tx, std::size_t limit) {
  auto rows = tx.query(std::string("SELECT ") + kFiringColumns +
                           " FROM trigger_firings WHERE status = 'queued' ORDER BY instant_ms, id "
                           "LIMIT $1",
                       {static_cast<std::int64_t>(limit)});
  if (!rows) return fail(rows.error());
  return firings_of(*rows);
}

Result<std::vector<std::string>> running_runs_of(SqlTransaction& tx,
                                                 const std::string& trigger_id) {
  auto rows = tx.query(
      "SELECT f.run_id FROM trigger_firings f JOIN workflow_runs r ON r.id = f.run_id WHERE "
      "f.trigger_id = $1 AND f.status = 'launched' AND r.status = 'running' ORDER BY f.run_id",
      {trigger_id});
  if (!rows) return fail(rows.error());
  std::vector<std::string> runs;
  for (const SqlRecord& row : records(*rows)) runs.push_back(row.text("run_id"));
  return runs;
}

Result<void> set_schedule_progress(SqlTransaction& tx, const std::string& trigger_id,
                                   std::int64_t considered_ms, std::optional<std::int64_t> due_ms) {
  auto updated = tx.execute("UPDATE triggers SET considered_ms = $2, due_ms = $3 WHERE id = $1",
                            {trigger_id, considered_ms, due_cell(due_ms)});
  if (!updated) return fail(updated.error());
  return {};
}

Result<std::optional<RunCursor>> read_trigger_cursor(SqlTransaction& tx, std::string_view name) {
  auto rows =
      tx.query("SELECT at_ms, run_id FROM trigger_cursors WHERE name = $1", {std::string(name)});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<RunCursor>();
  const SqlRecord row = first_record(*rows);
  return std::optional<RunCursor>(RunCursor{row.integer("at_ms"), row.text("run_id")});
}

Result<void> write_trigger_cursor(SqlTransaction& tx, std::string_view name,
                                  const RunCursor& cursor) {
  auto written = tx.execute(
      "INSERT INTO trigger_cursors (name, at_ms, run_id) VALUES ($1, $2, $3) ON CONFLICT (name) "
      "DO UPDATE SET at_ms = excluded.at_ms, run_id = excluded.run_id",
      {std::string(name), cursor.at_ms, cursor.run_id});
  if (!written) return fail(written.error());
  return {};
}

Result<std::vector<EndedRun>> runs_ended_after(SqlTransaction& tx, const RunCursor& after,
                                               std::int64_t until_ms, std::size_t limit) {
  auto rows = tx.query(
      "SELECT id, owner, status, input_json, result_json, error, closed_at_ms FROM workflow_runs "
      "WHERE closed_at_ms IS NOT NULL AND (closed_at_ms > $1 OR (closed_at_ms = $1 AND id > $2)) "
      "AND closed_at_ms <= $3 AND workflow_name = 'workflow' AND status IN ('completed', "
      "'failed') ORDER BY closed_at_ms, id LIMIT $4",
      {after.at_ms, after.run_id, until_ms, static_cast<std::int64_t>(limit)});
  if (!rows) return fail(rows.error());
  std::vector<EndedRun> runs;
  for (const SqlRecord& row : records(*rows)) {
    EndedRun run;
    run.id = row.text("id");
    run.owner = row.optional_text("owner").value_or("");
    run.status = row.text("status");
    auto input = json_cell(row, "input_json");
    if (!input) return fail(input.error());
    run.input = std::move(*input);
    const auto result = row.optional_text("result_json");
    run.result = result ? parse_json_or_discarded(*result) : Json();
    if (run.result.is_discarded()) run.result = Json();
    run.error = row.optional_text("error").value_or("");
    run.closed_at_ms = row.integer("closed_at_ms");
    runs.push_back(std::move(run));
  }
  return runs;
}

}  // namespace reliant
