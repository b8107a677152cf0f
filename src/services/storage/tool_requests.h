// Durable tool requests (docs/architecture.md §6): a pending row exists before a request is routed,
// the gateway that hands it to a daemon marks it dispatched to that daemon process's session, and
// the first result completes it. This is what makes a queue-group delivery to the wrong gateway,
// a lost bus message or a gateway crash lose nothing, and a daemon restart never run a request
// twice. Functions run inside a Store transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/enum_names.h"
#include "base/result.h"
#include "runtime/store.h"

namespace reliant {

// Pending: stored, not yet sent. Dispatched: sent to one daemon session. Completed: its result
// is stored.
enum class ToolRequestStatus { pending, dispatched, completed };
inline constexpr EnumNames<ToolRequestStatus, 3> kToolRequestStatusNames{{
    {ToolRequestStatus::pending, "pending"},
    {ToolRequestStatus::dispatched, "dispatched"},
    {ToolRequestStatus::completed, "completed"},
}};
RELIANT_JSON_BY_NAME(ToolRequestStatus, kToolRequestStatusNames)

struct ToolRequestRecord {
  std::string request_id;
  std::string user_id;
  std::string daemon_id;
  std::string tool_name;
  std::string input_json;
  std::string tool_call_id;
  std::int64_t timeout_ms = 0;
  std::string reply_subject;
  ToolRequestStatus status = ToolRequestStatus::pending;
  std::string daemon_session;  // the daemon process it was dispatched to
  std::optional<std::string> result_json;
  std::int64_t created_at_ms = 0;
};

// Where a stored request stands: the daemon its row names, and whether this call made the row.
struct StoredToolRequest {
  std::string daemon_id;
  bool inserted = false;
};

// Inserts a pending request. When the id exists already (a retry: every attempt of a workflow
// step sends the same id) the first insert stands, except that a request still pending moves to
// the daemon this retry names. One that reached a daemon stays with it, so it runs at most once.
// A request id of another user's is refused.
Result<StoredToolRequest> store_tool_request(SqlTransaction& tx, const ToolRequestRecord& request);

Result<std::optional<ToolRequestRecord>> find_tool_request(SqlTransaction& tx,
                                                           const std::string& request_id);

// A daemon's requests that are not completed, oldest first.
Result<std::vector<ToolRequestRecord>> open_tool_requests(SqlTransaction& tx,
                                                          const std::string& daemon_id,
                                                          std::int64_t limit);

enum class Dispatch {
  send,       // now dispatched to this session: send it
  resend,     // already dispatched to this same session: send again (the daemon deduplicates)
  lost,       // dispatched to an earlier session of the daemon: that process is gone
  completed,  // there is a result already
  elsewhere,  // it names another daemon now (a later attempt moved it before anyone got it)
  not_found,
};

// Decides whether a request may go to session `session_id` of daemon `daemon_id`, and records
// the dispatch.
Result<Dispatch> dispatch_tool_request(SqlTransaction& tx, const std::string& request_id,
                                       const std::string& daemon_id, const std::string& session_id,
                                       std::int64_t now_ms);

// Stores the first result; later ones are ignored. Returns whether this one counted.
Result<bool> complete_tool_request(SqlTransaction& tx, const std::string& request_id,
                                   const std::string& result_json, std::int64_t now_ms);

}  // namespace reliant
