// Presets kept in the store: a user's own (project_id empty) and a project's, YAML by name. The
// API validates a preset before it is stored; these statements check ownership — every one
// names the user, and a project that is not theirs is not found.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/store.h"

namespace reliant {

struct PresetRecord {
  std::string id;
  std::string user_id;
  std::string project_id;  // empty: the user's own
  std::string name;        // the preset's own `name:`
  std::string source;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

// Stores a new preset, or replaces the source of the one of that name in the same place.
// Fails with not_found when the project is not the user's.
Result<PresetRecord> put_preset(SqlTransaction& tx, const PresetRecord& preset);
// The user's own presets and, when `project_id` is not empty, that project's, by name.
Result<std::vector<PresetRecord>> list_presets(SqlTransaction& tx, const std::string& user_id,
                                               const std::string& project_id);
// The presets a message of the chat `chat_id` runs under (the user's, and those of the chat's
// project), as list_presets orders them: the statement and the reading of its rows, for a caller
// that reads the chat with it (SqlTransaction::query_together).
SqlStatement chat_presets_statement(const std::string& user_id, const std::string& chat_id);
std::vector<PresetRecord> presets_from(const SqlRows& rows);
// Fails with not_found when there is no such preset (or the project is not the user's).
Result<void> delete_preset(SqlTransaction& tx, const std::string& user_id,
                           const std::string& project_id, const std::string& name);

}  // namespace reliant
