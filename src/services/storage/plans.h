// A chat's plan, as the planning tools keep it (services/agent/plan_tools.h): one JSON document
// per chat, versioned on every save, gone with its chat. And the answers of the tools that run on
// the server, by request id, so a retried step answers from the first run instead of running the
// tool again (docs/tool-path.md's at-most-once, for tools no daemon runs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "runtime/store.h"

namespace reliant {

struct ChatPlanRecord {
  std::string chat_id;
  nlohmann::json plan = nlohmann::json::object();  // {title, description, tasks, next_task_id}
  std::int64_t version = 0;                        // 0: not stored yet
  std::int64_t updated_at_ms = 0;
};

Result<std::optional<ChatPlanRecord>> find_chat_plan(SqlTransaction& tx,
                                                     const std::string& chat_id);
// Inserts (version 0) or replaces (bumping the version); returns the stored version.
Result<std::int64_t> save_chat_plan(SqlTransaction& tx, const ChatPlanRecord& plan,
                                    std::int64_t now_ms);

struct ServerToolCallRecord {
  std::string request_id;
  std::string chat_id;
  std::string tool;
  std::string content;
  bool is_error = false;
  std::int64_t created_at_ms = 0;
};

Result<std::optional<ServerToolCallRecord>> find_server_tool_call(SqlTransaction& tx,
                                                                  const std::string& request_id);
Result<void> insert_server_tool_call(SqlTransaction& tx, const ServerToolCallRecord& call);

}  // namespace reliant
