// Chat plans and server tool answers over SQL (plans.h).
#include "services/storage/plans.h"

#include "base/json_parse.h"
#include "services/storage/sql_row.h"

namespace reliant {

Result<std::optional<ChatPlanRecord>> find_chat_plan(SqlTransaction& tx,
                                                     const std::string& chat_id) {
  auto rows = tx.query(
      "SELECT chat_id, plan_json, version, updated_at_ms FROM chat_plans WHERE chat_id = $1",
      {chat_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<ChatPlanRecord>();
  const SqlRecord row = first_record(*rows);
  ChatPlanRecord plan;
  plan.chat_id = row.text("chat_id");
  plan.plan = parse_json_or_discarded(row.text("plan_json"), kStoredJsonDepthMax);
  if (!plan.plan.is_object()) {
    return fail(ErrorCode::internal, "the stored plan of chat " + chat_id + " is not a map");
  }
  plan.version = row.integer("version");
  plan.updated_at_ms = row.integer("updated_at_ms");
  return std::optional<ChatPlanRecord>(std::move(plan));
}

Result<std::int64_t> save_chat_plan(SqlTransaction& tx, const ChatPlanRecord& plan,
                                    std::int64_t now_ms) {
  const std::string text = plan.plan.dump();
  if (plan.version == 0) {
    auto inserted = tx.execute(
        "INSERT INTO chat_plans (chat_id, plan_json, version, updated_at_ms) VALUES ($1, $2, 1, "
        "$3)",
        {plan.chat_id, text, now_ms});
    if (!inserted) return fail(inserted.error());
    return std::int64_t{1};
  }
  // Conditional on the version read, so two writers never silently overwrite each other.
  auto updated = tx.execute(
      "UPDATE chat_plans SET plan_json = $2, version = version + 1, updated_at_ms = $3 "
      "WHERE chat_id = $1 AND version = $4",
      {plan.chat_id, text, now_ms, plan.version});
  if (!updated) return fail(updated.error());
  if (*updated == 0) {
    // Nothing was written: the step runs again and reads the plan anew.
    return fail(ErrorCode::unavailable, "the plan of chat " + plan.chat_id + " changed meanwhile");
  }
  return plan.version + 1;
}

Result<std::optional<ServerToolCallRecord>> find_server_tool_call(SqlTransaction& tx,
                                                                  const std::string& request_id) {
  auto rows = tx.query(
      "SELECT request_id, chat_id, tool, content, is_error, created_at_ms FROM server_tool_calls "
      "WHERE request_id = $1",
      {request_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<ServerToolCallRecord>();
  const SqlRecord row = first_record(*rows);
  return std::optional<ServerToolCallRecord>(ServerToolCallRecord{
      row.text("request_id"), row.text("chat_id"), row.text("tool"), row.text("content"),
      row.integer("is_error") != 0, row.integer("created_at_ms")});
}

Result<void> insert_server_tool_call(SqlTransaction& tx, const ServerToolCallRecord& call) {
  auto inserted = tx.execute(
      "INSERT INTO server_tool_calls (request_id, chat_id, tool, content, is_error, "
      "created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
      {call.request_id, call.chat_id, call.tool, call.content, std::int64_t{call.is_error ? 1 : 0},
       call.created_at_ms});
  if (!inserted) return fail(inserted.error());
  return {};
}

}  // namespace reliant
