// What the node activities share: their input read once, the daemon a node's tools run on, and
// one tool call sent to it (at most once, cancelled on the daemon if the attempt is abandoned).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "services/agent/agent_activities.h"
#include "services/storage/daemons.h"
#include "services/storage/threads.h"

namespace reliant::agent {

// The interpreter's action as an activity receives it.
struct NodeInput {
  std::string key;  // "turns#2/think"
  std::string path;
  std::string node_id;
  std::string type;
  std::string ref;
  nlohmann::json args = nlohmann::json::object();
  nlohmann::json thread;  // {mode, memo, inject} or null
  nlohmann::json daemon;  // the node's (else the workflow's) selector, or null
  nlohmann::json run = nlohmann::json::object();  // the run's context
  std::string user_id;
  std::string chat_id;
  std::string project_id;
  ThreadRef thread_ref;  // the chat thread the node talks on
};
Result<NodeInput> node_input(const nlohmann::json& input);

// A field of a node's args (or of a map inside them) that should be text: its value, `fallback`
// when it is absent or null, or the node's error naming the field when it holds another type
// (nlohmann's value(key, default) throws there, and a throw out of an activity ends the process).
Result<std::string> text_arg(const NodeInput& node, const nlohmann::json& map, std::string_view key,
                             std::string fallback = {});

// A node that cannot do what its args ask (a missing command, a malformed model answer): the
// run records this as the node's failure.
Error node_error(const NodeInput& node, std::string message);

// Whether ensure_node_thread has anything to do: a thread of its own, or a message to inject.
bool node_thread_needs_preparing(const NodeInput& node);
// The node's thread exists (created the first time it is used) and holds the node's
// `thread.inject` message, once.
Result<void> ensure_node_thread(SqlTransaction& tx, SqlDialect dialect, const NodeInput& node,
                                const std::string& run_id, std::int64_t now_ms);

// Whether node_daemon asks the gateways which connected daemons really are (a round trip through
// the bus to every gateway), or takes the rows' word for it.
enum class DaemonPresence { asked, as_stored };

// The daemon the node's tools run on: its selector, else the chat's session daemon, else the
// user's default (core/daemon_selection). A store that is down fails with a retryable error.
Task<Result<std::string>> node_daemon(const AgentDeps& deps, NodeInput node,
                                      DaemonPresence presence = DaemonPresence::asked);
// node_daemon's choice among daemons read already: the user's, and the chat's session daemon when
// the node is in a chat (list_daemons_for_chat).
Task<Result<std::string>> choose_node_daemon(const AgentDeps& deps, NodeInput node,
                                             ChatDaemons read, DaemonPresence presence);

struct DaemonAnswer {
  std::string daemon_id;
  bool is_error = false;
  std::string content;
  nlohmann::json metadata = nlohmann::json::object();
  std::string error_code;  // the daemon's: invalid_input, timeout, failed …
};
// Runs `tool` on `daemon_id` under `request_id` (the same on every attempt: the daemon answers
// a repeat from its cache). A lost daemon or store fails retryably; a tool that fails answers.
Task<Result<DaemonAnswer>> call_on_daemon(const AgentDeps& deps, engine::ActivityContext& context,
                                          const NodeInput& node, std::string daemon_id,
                                          std::string tool, nlohmann::json input,
                                          std::string request_id, std::string tool_call_id);

// Whether a tool filter (core/workflow/tool_filter.h: names, patterns, `tag:TAG`, excludes)
// lets `tool` be offered and run. The tags: default/all (every tool), readonly/plan/read (tools
// that change nothing; not MCP tools), edit/write, shell/bash, search, planning (the plan tools
// the server runs, server_tools.h) and mcp (the daemon's MCP servers' tools,
// mcp__<server>__<tool>). Null: no filter, every tool. A malformed filter lets nothing through
// (tool_filter_list refuses it first). Entries that name nothing here (a tool not configured,
// tag:web) select nothing. `tags`: more tags the tool has — an MCP tool's, from its server's
// configuration (the tool's own name already tags it with "mcp" and its server's name).
bool tool_allowed(const nlohmann::json& filter, std::string_view tool,
                  const std::vector<std::string>& tags = {});
// A node's tool filter as tool_allowed reads it: null (none) or a list. One entry written as a
// string is a list of one (not "no filter": in plan mode that would offer every tool); a filter
// of any other shape, or with a malformed entry, fails the node naming what is wrong.
Result<nlohmann::json> tool_filter_list(const NodeInput& node, const nlohmann::json& filter);

// A rough token count of stored messages (4 bytes a token), for compaction thresholds.
std::int64_t estimated_tokens(const std::vector<MessageRecord>& messages);

}  // namespace reliant::agent
