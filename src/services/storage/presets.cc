// Stored presets over SQL; a project's are reached only through its owner.
#include "services/storage/presets.h"

#include "services/storage/projects.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

constexpr const char* kPresetColumns =
    "id, user_id, project_id, name, source, created_at_ms, updated_at_ms";

PresetRecord preset_from(const SqlRecord& row) {
  return PresetRecord{row.text("id"),
                      row.text("user_id"),
                      row.text("project_id"),
                      row.text("name"),
                      row.text("source"),
                      row.integer("created_at_ms"),
                      row.integer("updated_at_ms")};
}

// A project's presets belong to its owner; the user's own need no project.
Result<void> require_place(SqlTransaction& tx, const std::string& user_id,
                           const std::string& project_id) {
  if (project_id.empty()) return {};
  return require_own_project(tx, user_id, project_id);
}

}  // namespace

Result<PresetRecord> put_preset(SqlTransaction& tx, const PresetRecord& preset) {
  if (auto ok = require_place(tx, preset.user_id, preset.project_id); !ok) return fail(ok.error());
  auto updated = tx.execute(
      "UPDATE presets SET source = $4, updated_at_ms = $5 "
      "WHERE user_id = $1 AND project_id = $2 AND name = $3",
      {preset.user_id, preset.project_id, preset.name, preset.source, preset.updated_at_ms});
  if (!updated) return fail(updated.error());
  if (*updated == 0) {
    auto inserted = tx.execute(std::string("INSERT INTO presets (") + kPresetColumns +
                                   ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
                               {preset.id, preset.user_id, preset.project_id, preset.name,
                                preset.source, preset.created_at_ms, preset.updated_at_ms});
    if (!inserted) return fail(inserted.error());
    return preset;
  }
  auto rows = tx.query(std::string("SELECT ") + kPresetColumns +
                           " FROM presets WHERE user_id = $1 AND project_id = $2 AND name = $3",
                       {preset.user_id, preset.project_id, preset.name});
  if (!rows) return fail(rows.error());
  return preset_from(first_record(*rows));
}

Result<std::vector<PresetRecord>> list_presets(SqlTransaction& tx, const std::string& user_id,
                                               const std::string& project_id) {
  if (auto ok = require_place(tx, user_id, project_id); !ok) return fail(ok.error());
  auto rows = tx.query(std::string("SELECT ") + kPresetColumns +
                           " FROM presets WHERE user_id = $1 AND (project_id = '' OR "
                           "project_id = $2) ORDER BY name, project_id",
                       {user_id, project_id});
  if (!rows) return fail(rows.error());
  return presets_from(*rows);
}

SqlStatement chat_presets_statement(const std::string& user_id, const std::string& chat_id) {
  // The chat's project by a subquery, so that the statement needs nothing the chat's read gives.
  static const std::string sql =
      std::string("SELECT ") + kPresetColumns +
      " FROM presets WHERE user_id = $1 AND (project_id = '' OR project_id = (SELECT project_id "
      "FROM chats WHERE id = $2 AND user_id = $1)) ORDER BY name, project_id";
  return {sql, {user_id, chat_id}};
}

std::vector<PresetRecord> presets_from(const SqlRows& rows) {
  std::vector<PresetRecord> out;
  for (const auto& row : records(rows)) out.push_back(preset_from(row));
  return out;
}

Result<void> delete_preset(SqlTransaction& tx, const std::string& user_id,
                           const std::string& project_id, const std::string& name) {
  if (auto ok = require_place(tx, user_id, project_id); !ok) return ok;
  auto deleted =
      tx.execute("DELETE FROM presets WHERE user_id = $1 AND project_id = $2 AND name = $3",
                 {user_id, project_id, name});
  if (!deleted) return fail(deleted.error());
  if (*deleted == 0) {
    return fail(ErrorCode::not_found,
                (project_id.empty() ? std::string("you have") : "project " + project_id + " has") +
                    " no preset '" + name + "'");
  }
  return {};
}

}  // namespace reliant
