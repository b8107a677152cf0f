// Tool request rows: pending → dispatched (to one daemon session) → completed.
#include "services/storage/tool_requests.h"

#include "services/storage/sql_row.h"

namespace reliant {
namespace {

constexpr const char* kColumns =
    "request_id, user_id, daemon_id, tool_name, input_json, tool_call_id, timeout_ms, "
    "reply_subject, status, daemon_session, result_json, created_at_ms";

ToolRequestRecord request_from(const SqlRow& r) {
  ToolRequestRecord t;
  t.request_id = text_at(r, 0);
  t.user_id = text_at(r, 1);
  t.daemon_id = optional_text_at(r, 2).value_or("");
  t.tool_name = text_at(r, 3);
  t.input_json = text_at(r, 4);
  t.tool_call_id = text_at(r, 5);
  t.timeout_ms = int_at(r, 6);
  t.reply_subject = text_at(r, 7);
  t.status = text_at(r, 8);
  t.daemon_session = optional_text_at(r, 9).value_or("");
  t.result_json = optional_text_at(r, 10);
  t.created_at_ms = int_at(r, 11);
  return t;
}

}  // namespace

Result<bool> insert_tool_request(SqlTransaction& tx, const ToolRequestRecord& t) {
  auto inserted = tx.execute(
      "INSERT INTO tool_requests (request_id, user_id, daemon_id, tool_name, input_json, "
      "tool_call_id, timeout_ms, reply_subject, status, created_at_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9) ON CONFLICT DO NOTHING",
      {t.request_id, t.user_id, t.daemon_id, t.tool_name, t.input_json, t.tool_call_id,
       t.timeout_ms, t.reply_subject, t.created_at_ms});
  if (!inserted) return fail(inserted.error());
  return *inserted == 1;
}

Result<std::optional<ToolRequestRecord>> find_tool_request(SqlTransaction& tx,
                                                           const std::string& request_id) {
  auto rows =
      tx.query(std::string("SELECT ") + kColumns + " FROM tool_requests WHERE request_id = $1",
               {request_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<ToolRequestRecord>();
  return std::optional<ToolRequestRecord>(request_from(rows->rows.front()));
}

Result<std::vector<ToolRequestRecord>> open_tool_requests(SqlTransaction& tx,
                                                          const std::string& daemon_id,
                                                          std::int64_t limit) {
  // Served by the partial index tool_requests_open.
  auto rows = tx.query(std::string("SELECT ") + kColumns +
                           " FROM tool_requests WHERE daemon_id = $1 AND status <> 'completed' "
                           "ORDER BY created_at_ms, request_id LIMIT $2",
                       {daemon_id, limit});
  if (!rows) return fail(rows.error());
  std::vector<ToolRequestRecord> out;
  for (const auto& r : rows->rows) out.push_back(request_from(r));
  return out;
}

Result<Dispatch> dispatch_tool_request(SqlTransaction& tx, const std::string& request_id,
                                       const std::string& session_id, std::int64_t now_ms) {
  // The conditional update is the arbiter: of several gateways racing, one moves it.
  auto claimed = tx.execute(
      "UPDATE tool_requests SET status = 'dispatched', daemon_session = $2, dispatched_at_ms = $3 "
      "WHERE request_id = $1 AND status = 'pending'",
      {request_id, session_id, now_ms});
  if (!claimed) return fail(claimed.error());
  if (*claimed == 1) return Dispatch::send;
  auto rows = tx.query("SELECT status, daemon_session FROM tool_requests WHERE request_id = $1",
                       {request_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return Dispatch::not_found;
  const auto& r = rows->rows.front();
  if (text_at(r, 0) == "completed") return Dispatch::completed;
  return optional_text_at(r, 1).value_or("") == session_id ? Dispatch::resend : Dispatch::lost;
}

Result<bool> complete_tool_request(SqlTransaction& tx, const std::string& request_id,
                                   const std::string& result_json, std::int64_t now_ms) {
  auto done = tx.execute(
      "UPDATE tool_requests SET status = 'completed', result_json = $2, completed_at_ms = $3 "
      "WHERE request_id = $1 AND status <> 'completed'",
      {request_id, result_json, now_ms});
  if (!done) return fail(done.error());
  return *done == 1;
}

}  // namespace reliant
