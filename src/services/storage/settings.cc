// Settings over SQL: an upsert of one row per user, portable across SQLite and Postgres.
#include "services/storage/settings.h"

#include "base/json_parse.h"
#include "services/storage/sql_row.h"

namespace reliant {

Result<nlohmann::json> load_settings(SqlTransaction& tx, const std::string& user_id) {
  auto rows = tx.query("SELECT body_json FROM user_settings WHERE user_id = $1", {user_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return nlohmann::json::object();
  auto body = parse_json_or_discarded(first_record(*rows).text("body_json"), kStoredJsonDepthMax);
  if (body.is_discarded() || !body.is_object())
    return fail(ErrorCode::internal, "the stored settings of user " + user_id + " are corrupt");
  return body;
}

Result<void> save_settings(SqlTransaction& tx, const std::string& user_id,
                           const nlohmann::json& settings, std::int64_t now_ms) {
  auto saved = tx.execute(
      "INSERT INTO user_settings (user_id, body_json, updated_at_ms) VALUES ($1, $2, $3) "
      "ON CONFLICT (user_id) DO UPDATE SET body_json = excluded.body_json, "
      "updated_at_ms = excluded.updated_at_ms",
      {user_id, settings.dump(), now_ms});
  if (!saved) return fail(saved.error());
  return {};
}

}  // namespace reliant
