// Tool request rows: pending → dispatched (to one daemon session) → completed.
#include "services/storage/tool_requests.h"

#include "base/assert.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

constexpr const char* kToolRequestColumns =
    "request_id, user_id, daemon_id, tool_name, input_json, tool_call_id, timeout_ms, "
    "reply_subject, status, daemon_session, result_json, created_at_ms";

Result<ToolRequestRecord> request_from(const SqlRecord& r) {
  ToolRequestRecord t;
  t.request_id = r.text("request_id");
  t.user_id = r.text("user_id");
  t.daemon_id = r.text_or_empty("daemon_id");
  t.tool_name = r.text("tool_name");
  t.input_json = r.text("input_json");
  t.tool_call_id = r.text("tool_call_id");
  t.timeout_ms = r.integer("timeout_ms");
  t.reply_subject = r.text("reply_subject");
  auto status = r.enumerated("status", kToolRequestStatusNames);
  if (!status) return fail(status.error());
  t.status = *status;
  t.daemon_session = r.text_or_empty("daemon_session");
  t.result_json = r.optional_text("result_json");
  t.created_at_ms = r.integer("created_at_ms");
  return t;
}

}  // namespace

Result<StoredToolRequest> store_tool_request(SqlTransaction& tx, const ToolRequestRecord& t) {
  auto inserted = tx.execute(
      "INSERT INTO tool_requests (request_id, user_id, daemon_id, tool_name, input_json, "
      "tool_call_id, timeout_ms, reply_subject, status, created_at_ms) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9) ON CONFLICT DO NOTHING",
      {t.request_id, t.user_id, t.daemon_id, t.tool_name, t.input_json, t.tool_call_id,
       t.timeout_ms, t.reply_subject, t.created_at_ms});
  if (!inserted) return fail(inserted.error());
  if (*inserted == 1) return StoredToolRequest{t.daemon_id, true};
  // A retry, maybe of a later attempt that chose another daemon: the one an earlier attempt
  // chose may be gone for good (a registration whose reply was lost is never connected). No
  // daemon has received a pending request, so it may move; a received one stays where it went.
  auto moved = tx.execute(
      "UPDATE tool_requests SET daemon_id = $3 WHERE request_id = $1 AND user_id = $2 AND "
      "status = 'pending' AND daemon_id <> $3",
      {t.request_id, t.user_id, t.daemon_id});
  if (!moved) return fail(moved.error());
  auto rows = tx.query("SELECT user_id, daemon_id FROM tool_requests WHERE request_id = $1",
                       {t.request_id});
  if (!rows) return fail(rows.error());
  RELIANT_ASSERT_MSG(!rows->rows.empty(), "a conflicting insert implies the row");
  const SqlRecord r = first_record(*rows);
  if (r.text("user_id") != t.user_id) {
    return fail(ErrorCode::invalid_argument, "tool request id " + t.request_id + " is taken");
  }
  return StoredToolRequest{r.text_or_empty("daemon_id"), false};
}

Result<std::optional<ToolRequestRecord>> find_tool_request(SqlTransaction& tx,
                                                           const std::string& request_id) {
  auto rows = tx.query(
      std::string("SELECT ") + kToolRequestColumns + " FROM tool_requests WHERE request_id = $1",
      {request_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<ToolRequestRecord>();
  auto request = request_from(first_record(*rows));
  if (!request) return fail(request.error());
  return std::optional<ToolRequestRecord>(std::move(*request));
}

Result<std::vector<ToolRequestRecord>> open_tool_requests(SqlTransaction& tx,
                                                          const std::string& daemon_id,
                                                          std::int64_t limit) {
  // Served by the partial index tool_requests_open.
  auto rows = tx.query(std::string("SELECT ") + kToolRequestColumns +
                           " FROM tool_requests WHERE daemon_id = $1 AND status <> 'completed' "
                           "ORDER BY created_at_ms, request_id LIMIT $2",
                       {daemon_id, limit});
  if (!rows) return fail(rows.error());
  std::vector<ToolRequestRecord> out;
  for (const SqlRecord& r : records(*rows)) {
    auto request = request_from(r);
    if (!request) return fail(request.error());
    out.push_back(std::move(*request));
  }
  return out;
}

Result<Dispatch> dispatch_tool_request(SqlTransaction& tx, const std::string& request_id,
                                       const std::string& daemon_id, const std::string& session_id,
                                       std::int64_t now_ms) {
  // The conditional update is the arbiter: of several gateways racing, one moves it.
  auto claimed = tx.execute(
      "UPDATE tool_requests SET status = 'dispatched', daemon_session = $3, dispatched_at_ms = $4 "
      "WHERE request_id = $1 AND daemon_id = $2 AND status = 'pending'",
      {request_id, daemon_id, session_id, now_ms});
  if (!claimed) return fail(claimed.error());
  if (*claimed == 1) return Dispatch::send;
  auto rows =
      tx.query("SELECT daemon_id, status, daemon_session FROM tool_requests WHERE request_id = $1",
               {request_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return Dispatch::not_found;
  const SqlRecord r = first_record(*rows);
  if (r.text_or_empty("daemon_id") != daemon_id) return Dispatch::elsewhere;
  auto status = r.enumerated("status", kToolRequestStatusNames);
  if (!status) return fail(status.error());
  if (*status == ToolRequestStatus::completed) return Dispatch::completed;
  return r.text_or_empty("daemon_session") == session_id ? Dispatch::resend : Dispatch::lost;
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
