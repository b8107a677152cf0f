// Node activities' shared pieces: reading the action, the node's daemon, one tool call on it.
#include "services/agent/node_support.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "base/json_parse.h"
#include "core/daemon_selection.h"
#include "core/workflow/tool_filter.h"
#include "services/agent/server_tools.h"
#include "services/agent/step_support.h"
#include "services/daemon/tools/tool_support.h"
#include "services/routing/daemon_resolver.h"
#include "services/storage/daemons.h"

namespace reliant::agent {

using Json = nlohmann::json;

Result<NodeInput> node_input(const Json& input) {
  if (!input.is_object()) return fail(ErrorCode::invalid_argument, "node input must be an object");
  NodeInput node;
  node.key = input.value("key", "");
  node.path = input.value("path", "");
  node.node_id = input.value("node_id", "");
  node.type = input.value("type", "");
  node.ref = input.value("ref", "");
  node.args = input.value("args", Json::object());
  if (node.args.is_null()) node.args = Json::object();
  node.thread = input.value("thread", Json());
  node.daemon = input.value("daemon", Json());
  node.run = input.value("run", Json::object());
  if (!node.args.is_object()) {
    return fail(ErrorCode::invalid_argument, "node " + node.path + ": args must be a map");
  }
  if (!node.run.is_object()) node.run = Json::object();
  node.user_id = node.run.value("user_id", "");
  node.chat_id = node.run.value("chat_id", "");
  node.project_id = node.run.value("project_id", "");
  node.thread_ref.id = input.value("thread_id", "");
  if (input.contains("thread_from") && input["thread_from"].is_string()) {
    node.thread_ref.from = input["thread_from"].get<std::string>();
  }
  if (node.user_id.empty()) {
    return fail(ErrorCode::invalid_argument, "node " + node.path + ": the run names no user");
  }
  return node;
}

Error node_error(const NodeInput& node, std::string message) {
  return Error{ErrorCode::invalid_argument, node.type + " node " +
                                                (node.path.empty() ? node.key : node.path) + ": " +
                                                std::move(message)};
}

Result<std::string> text_arg(const NodeInput& node, const Json& map, std::string_view key,
                             std::string fallback) {
  if (!map.is_object()) return fallback;
  const auto found = map.find(key);
  if (found == map.end() || found->is_null()) return fallback;
  if (!found->is_string()) {
    return fail(node_error(node, std::string(key) + " must be text, not " + found->dump()));
  }
  return found->get<std::string>();
}

bool node_thread_needs_preparing(const NodeInput& node) {
  return !node.thread_ref.id.empty() ||
         (node.thread.is_object() && node.thread.value("inject", Json()).is_object());
}

Result<void> ensure_node_thread(SqlTransaction& tx, SqlDialect dialect, const NodeInput& node,
                                const std::string& run_id, std::int64_t now_ms) {
  auto created = ensure_thread(tx, node.chat_id, node.thread_ref, now_ms);
  if (!created) return fail(created.error());
  const Json inject = node.thread.is_object() ? node.thread.value("inject", Json()) : Json();
  if (!inject.is_object()) return {};
  // `thread.inject`: a message put on the node's thread before it runs, once per node.
  MessageRecord message;
  message.id = "inject-" + run_id + "-" + node.key;
  message.chat_id = node.chat_id;
  message.thread = node.thread_ref.id;
  auto role = text_arg(node, inject, "role", "user");
  if (!role) return fail(role.error());
  message.role = std::move(*role);
  if (message.role != "user" && message.role != "assistant" && message.role != "system") {
    return fail(node_error(node, "thread.inject.role must be user, assistant or system"));
  }
  message.created_at_ms = now_ms;
  const Json content = inject.value("content", Json(""));
  message.blocks.push_back(
      {"text", {{"text", content.is_string() ? content.get<std::string>() : content.dump()}}});
  auto written = insert_message_once(tx, dialect, message);
  if (!written) return fail(written.error());
  return {};
}

Task<Result<std::string>> node_daemon(const AgentDeps& deps, NodeInput node,
                                      DaemonPresence presence) {
  // The chat's session daemon and the user's daemons, read together.
  Task<Result<ChatDaemons>> reading = deps.store.transact_for(
      [chat_id = node.chat_id, user_id = node.user_id](SqlTransaction& tx) -> Result<ChatDaemons> {
        if (!chat_id.empty()) return list_daemons_for_chat(tx, user_id, chat_id);
        auto daemons = list_daemons(tx, user_id);
        if (!daemons) return fail(daemons.error());
        return ChatDaemons{{}, std::move(*daemons)};
      });
  Result<ChatDaemons> read = co_await reading;
  if (!read) co_return fail(read.error());
  Task<Result<std::string>> choosing =
      choose_node_daemon(deps, std::move(node), std::move(*read), presence);
  co_return co_await choosing;
}

Task<Result<std::string>> choose_node_daemon(const AgentDeps& deps, NodeInput node,
                                             ChatDaemons read, DaemonPresence presence) {
  const std::string session_daemon = std::move(read.chat_daemon_id);
  routing::DaemonChoice choice;
  if (!node.daemon.is_null()) {
    auto selector = parse_selector_source(node.daemon);
    if (!selector) co_return fail(node_error(node, "daemon: " + selector.error().message));
    choice.node = std::move(*selector);
  }
  // A selector the run was started with (a chat message's) stands where the workflow's would.
  if (const Json run_daemon = node.run.value("daemon", Json()); !run_daemon.is_null()) {
    auto selector = parse_selector_source(run_daemon);
    if (!selector)
      co_return fail(node_error(node, "the run's daemon: " + selector.error().message));
    choice.workflow = std::move(*selector);
  }
  if (!session_daemon.empty()) choice.session_daemon_id = session_daemon;
  Task<Result<DaemonDecision>> resolving =
      routing::resolve_daemon_among(std::move(read.daemons), node.user_id, std::move(choice),
                                    presence == DaemonPresence::asked ? &deps.router : nullptr);
  Result<DaemonDecision> decision = co_await resolving;
  if (!decision) {
    const ErrorCode code = decision.error().code;
    if (code == ErrorCode::unavailable || code == ErrorCode::outcome_unknown) {
      co_return fail(decision.error());  // the store: retry
    }
    co_return fail(node_error(node, "no daemon to run on: " + decision.error().message));
  }
  co_return decision->daemon_id;
}

Task<Result<DaemonAnswer>> call_on_daemon(const AgentDeps& deps, engine::ActivityContext& context,
                                          const NodeInput& node, std::string daemon_id,
                                          std::string tool, Json input, std::string request_id,
                                          std::string tool_call_id) {
  Executor& executor = context.executor;
  preview(deps.bus, node.user_id, node.chat_id, "tool_running",
          {{"tool_call_id", tool_call_id},
           {"request_id", request_id},  // what the daemon's output previews name
           {"name", tool},
           {"input", input},
           {"daemon_id", daemon_id},
           {"run_id", context.run_id},
           {"node", node.key}},
          to_ms(executor.now()));
  routing::ToolCall call;
  call.user_id = node.user_id;
  call.daemon_id = daemon_id;
  call.request_id = request_id;
  call.tool_name = tool;
  call.input_json = input.dump();
  call.tool_call_id = std::move(tool_call_id);
  UndoIfAbandoned abandoned{context.cleanup,
                            [router = &deps.router, user_id = node.user_id, daemon_id, request_id] {
                              return cancel_tool_call(router, user_id, daemon_id, request_id);
                            }};
  Scope beating(executor);
  beating.spawn(keep_alive(executor, context.heartbeat));
  Task<Result<daemon::v1::ToolResponse>> sending = deps.router.send_tool_request(std::move(call));
  Result<daemon::v1::ToolResponse> response = co_await sending;
  abandoned.settled = true;
  DaemonAnswer answer;
  answer.daemon_id = std::move(daemon_id);
  if (!response) {
    const ErrorCode code = response.error().code;
    if (code == ErrorCode::unavailable || code == ErrorCode::outcome_unknown) {
      co_return fail(response.error());
    }
    answer.is_error = true;
    answer.content = tool + " did not finish: " + response.error().message;
    answer.error_code = std::string(to_string(code));
    co_return answer;
  }
  // Who answered: another than the chosen one when an earlier attempt's request reached it.
  if (!response->daemon_id().empty()) answer.daemon_id = response->daemon_id();
  answer.is_error = response->is_error() || !response->success();
  answer.content = response->content();
  if (answer.content.empty() && !response->error_message().empty())
    answer.content = response->error_message();
  answer.error_code = response->error_code();
  if (!response->metadata_json().empty()) {
    answer.metadata = parse_json_or_discarded(response->metadata_json());
    if (!answer.metadata.is_object()) answer.metadata = Json::object();
  }
  co_return answer;
}

namespace {

// The built-in tools' tags, by name, as each tool declares them (daemon/tools).
const std::map<std::string, daemon::ToolTags, std::less<>>& builtin_tool_tags() {
  static const std::map<std::string, daemon::ToolTags, std::less<>> tags = [] {
    std::map<std::string, daemon::ToolTags, std::less<>> out;
    const daemon::ToolSet tools = daemon::make_builtin_tools();
    for (const auto& name : tools.names()) out.emplace(name, tools.find(name)->tags());
    const std::unique_ptr<daemon::Tool> echo = daemon::make_echo_tool();
    const std::unique_ptr<daemon::Tool> calculate = daemon::make_calculate_tool();
    for (const daemon::Tool* tool : {echo.get(), calculate.get()})
      out.emplace(std::string(tool->name()), tool->tags());
    return out;
  }();
  return tags;
}

bool tool_has_tag(std::string_view tool, std::string_view tag) {
  if (tag == "default" || tag == "all") return true;
  const auto builtin = builtin_tool_tags().find(tool);
  const daemon::ToolTags tags =
      builtin == builtin_tool_tags().end() ? daemon::ToolTags{} : builtin->second;
  if (tag == "readonly" || tag == "plan" || tag == "read")
    return tags.read_only || server_tool_reads_only(tool);
  if (tag == "planning") return is_server_tool(tool);
  if (tag == "edit" || tag == "write") return tags.edits;
  if (tag == "shell" || tag == "bash") return tags.shell;
  if (tag == "search") return tags.search;
  if (tag == "mcp") return tool.starts_with("mcp__");
  // mcp__<server>__<tool>: its server's name is a tag of it.
  if (tool.starts_with("mcp__")) {
    const std::string_view rest = tool.substr(5);
    const std::size_t end = rest.find("__");
    if (end != std::string_view::npos && rest.substr(0, end) == tag) return true;
  }
  return false;
}

}  // namespace

bool tool_allowed(const Json& filter, std::string_view tool, const std::vector<std::string>& tags) {
  if (filter.is_null()) return true;
  const auto parsed = workflow::parse_tool_filter(filter);
  if (!parsed) return false;  // tool_filter_list refused it; nothing passes a broken filter
  return workflow::tool_passes(*parsed, tool, [&](std::string_view tag) {
    return tool_has_tag(tool, tag) || std::find(tags.begin(), tags.end(), tag) != tags.end();
  });
}

Result<Json> tool_filter_list(const NodeInput& node, const Json& filter) {
  if (filter.is_null()) return filter;
  if (auto parsed = workflow::parse_tool_filter(filter); !parsed)
    return fail(node_error(node, "tool_filter: " + parsed.error()));
  return filter.is_string() ? Json::array({filter}) : filter;
}

std::int64_t estimated_tokens(const std::vector<MessageRecord>& messages) {
  std::size_t bytes = 0;
  for (const auto& message : messages) {
    for (const auto& block : message.blocks) bytes += block.body.dump().size();
  }
  return static_cast<std::int64_t>(bytes / 4);
}

}  // namespace reliant::agent
