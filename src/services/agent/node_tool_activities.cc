// node.execute_tools, node.run and node.create_worktree: the nodes that work on a daemon (and,
// for the tools the server runs itself, on the worker: server_tools.h).
#include <algorithm>
#include <cctype>

#include "base/json_parse.h"
#include "core/workflow/agent_inbox.h"
#include "core/workflow/node_types.h"
#include "core/workflow/tool_filter.h"
#include "services/agent/conversation_cache.h"
#include "services/agent/daemon_tool_specs.h"
#include "services/agent/node_activities.h"
#include "services/agent/node_support.h"
#include "services/agent/server_tools.h"
#include "services/agent/spawn_tools.h"
#include "services/storage/projects.h"

namespace reliant::agent {
namespace {

using engine::ActivityContext;
using Json = nlohmann::json;

// The request id of a node's n-th daemon call: the same on every attempt of the step.
std::string call_request_id(const ActivityContext& context, std::size_t index) {
  return context.run_id + "-" + std::to_string(context.scheduled_seq) + "-" + std::to_string(index);
}

class ExecuteToolsNode final : public engine::Activity {
 public:
  ExecuteToolsNode(AgentDeps deps, std::shared_ptr<ConversationCache> conversations,
                   std::shared_ptr<DaemonToolSpecs> daemon_tools)
      : deps_(std::move(deps)),
        conversations_(std::move(conversations)),
        daemon_tools_(std::move(daemon_tools)) {}
  std::string_view name() const override {
    return workflow::node_type_info(workflow::NodeType::execute_tools).activity;
  }

  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    auto parsed = node_input(input);
    if (!parsed) co_return fail(parsed.error());
    const NodeInput node = std::move(*parsed);
    const Json calls = node.args.value("tool_calls", Json::array());
    if (!calls.is_array()) co_return fail(node_error(node, "tool_calls must be a list"));
    auto filter_list = tool_filter_list(node, node.args.value("tool_filter", Json()));
    if (!filter_list) co_return fail(filter_list.error());
    const Json filter = std::move(*filter_list);
    Json response_data = Json::object();
    for (const auto& name : node.args.value("expected_response_tools", Json::array())) {
      if (name.is_string()) response_data[name.get<std::string>()] = nullptr;
    }
    Json results = Json::array();
    Json spawned = Json::array();          // the sub-agents the calls started (agent_inbox.h)
    std::optional<std::string> daemon_id;  // chosen at the first call that needs a daemon
    std::string no_daemon;                 // why there is none ("" when there is one)
    std::optional<bool> daemon_online;     // asked at the first tool that runs anywhere
    for (std::size_t i = 0; i < calls.size(); ++i) {
      const Json& call = calls[i];
      if (!call.is_object() || !call.value("name", Json()).is_string()) {
        co_return fail(node_error(node, "tool call " + std::to_string(i + 1) +
                                            " is malformed: it needs a name and an input map"));
      }
      const std::string tool = call["name"].get<std::string>();
      const std::string call_id = text_field(call, "id");
      const Json tool_input = call.value("input", Json::object());
      Json result = {{"tool_call_id", call_id}, {"name", tool}};
      // A sub-agent may always message the agent that started it.
      bool allowed =
          tool_allowed(filter, tool) || (tool == "spawn_send" && is_spawned_run(node.run));
      if (!allowed) {
        Task<bool> checking = mcp_tags_allowed(context, node, filter, tool);
        allowed = co_await checking;
      }
      // A response tool's arguments are the answer itself: recorded, not run.
      if (bool_field(call, "response_tool") || response_data.contains(tool)) {
        response_data[tool] = tool_input;
        result["content"] = "Recorded.";
        result["is_error"] = false;
        results.push_back(std::move(result));
        continue;
      }
      if (!tool_input.is_object()) {
        result["content"] = "the input of " + tool + " is not a map";
        result["is_error"] = true;
      } else if (!allowed) {
        result["content"] = tool + " is not allowed here (tool filter " + filter.dump() + ")";
        result["is_error"] = true;
      } else if (workflow::is_spawn_tool(tool)) {
        Task<Result<void>> running = spawn_call(context, node, filter, i, result, spawned);
        if (auto ran = co_await running; !ran) co_return fail(ran.error());  // the store: retry
      } else if (is_server_tool(tool)) {
        // Runs here, daemon or not (seed 001's ToolRunsOnServer).
        Task<Result<ServerToolAnswer>> running =
            run_server_tool(deps_.store, deps_.bus,
                            {call_request_id(context, i), node.user_id, node.chat_id, tool,
                             tool_input, to_ms(context.executor.now())});
        Result<ServerToolAnswer> answer = co_await running;
        if (!answer) co_return fail(answer.error());  // the store: retry
        result["content"] = answer->content;
        result["is_error"] = answer->is_error;
        result["ran_on"] = "server";
      } else {
        if (!daemon_id) {
          Task<Result<std::string>> choosing = node_daemon(deps_, node);
          Result<std::string> chosen = co_await choosing;
          if (!chosen && chosen.error().code != ErrorCode::invalid_argument) {
            co_return fail(chosen.error());  // the store: retry
          }
          // No daemon is a tool error the model sees and can answer, not a failed run.
          daemon_id = chosen ? std::move(*chosen) : std::string();
          if (!chosen) no_daemon = chosen.error().message;
        }
        // A tool that runs anywhere runs on the daemon when it is online, else here.
        if (is_anywhere_tool(tool)) {
          if (!daemon_online && !daemon_id->empty()) {
            Task<Result<bool>> asking = deps_.router.is_online(node.user_id, *daemon_id);
            Result<bool> online = co_await asking;
            daemon_online = online ? *online : false;
          }
          if (daemon_id->empty() || !*daemon_online) {
            const ServerToolAnswer answer = run_anywhere_tool(tool, tool_input);
            result["content"] = answer.content;
            result["is_error"] = answer.is_error;
            result["ran_on"] = "server";
            results.push_back(std::move(result));
            continue;
          }
        }
        if (daemon_id->empty()) {
          result["content"] = "no daemon can run " + tool + ": " + no_daemon;
          result["is_error"] = true;
          results.push_back(std::move(result));
          continue;
        }
        Task<Result<DaemonAnswer>> calling =
            call_on_daemon(deps_, context, node, *daemon_id, tool, tool_input,
                           call_request_id(context, i), call_id);
        Result<DaemonAnswer> answer = co_await calling;
        if (!answer) co_return fail(answer.error());
        result["content"] = answer->content;
        result["is_error"] = answer->is_error;
        result["daemon_id"] = answer->daemon_id;
      }
      results.push_back(std::move(result));
    }
    std::size_t bytes = 0;
    for (const auto& result : results) bytes += text_field(result, "content").size();
    Json output = {{"tool_results", std::move(results)},
                   {"response_data", response_data},
                   {"total_result_chars", static_cast<std::int64_t>(bytes)}};
    if (!spawned.empty()) output[std::string(workflow::kSpawnedField)] = std::move(spawned);
    Task<Result<std::int64_t>> sizing = thread_tokens_after(node, bytes);
    Result<std::int64_t> tokens = co_await sizing;
    if (!tokens) co_return fail(tokens.error());
    output["thread_token_count"] = *tokens;
    co_return output;
  }

 private:
  Task<bool> mcp_tags_allowed(ActivityContext& context, const NodeInput& node, const Json& filter,
                              const std::string& tool);

  // A spawn tool's call (spawn_tools.h): its answer into `result`, a started sub-agent into
  // `spawned`. Fails when the store does.
  Task<Result<void>> spawn_call(ActivityContext& context, const NodeInput& node, const Json& filter,
                                std::size_t index, Json& result, Json& spawned) {
    Task<Result<SpawnToolAnswer>> running =
        run_spawn_tool(deps_, context, node,
                       {call_request_id(context, index), result["name"].get<std::string>(),
                        node.args["tool_calls"][index].value("input", Json::object()),
                        spawn_presets_in(filter), spawn_workflow_in(filter)});
    Result<SpawnToolAnswer> answer = co_await running;
    if (!answer) co_return fail(answer.error());
    result["content"] = answer->content;
    result["is_error"] = answer->is_error;
    result["ran_on"] = "server";
    if (!answer->spawned.is_null()) spawned.push_back(std::move(answer->spawned));
    co_return Result<void>{};
  }

  // The thread's size once results of `result_bytes` are on it: what compaction thresholds
  // compare.
  Task<Result<std::int64_t>> thread_tokens_after(const NodeInput& node, std::size_t result_bytes) {
    const auto added = static_cast<std::int64_t>(result_bytes / 4);
    if (node.chat_id.empty()) co_return added;
    Task<Result<KeptThread>> loading =
        read_thread(*conversations_, deps_.store, node.chat_id, node.thread_ref.id);
    Result<KeptThread> thread = co_await loading;
    if (!thread) co_return fail(thread.error());
    const std::int64_t tokens = estimated_tokens(thread->messages) + added;
    conversations_->put(node.chat_id, node.thread_ref.id, std::move(*thread));
    co_return tokens;
  }

  AgentDeps deps_;
  std::shared_ptr<ConversationCache> conversations_;
  std::shared_ptr<DaemonToolSpecs> daemon_tools_;
};

// Whether `filter` takes the MCP tool by a tag its server's configuration gives it, as its
// daemon reports (the tags call_llm offered it by; asked again when this worker has none kept).
Task<bool> mcp_tags_allow(const AgentDeps& deps, DaemonToolSpecs& specs, Executor& executor,
                          NodeInput node, Json filter, std::string tool) {
  if (!tool.starts_with("mcp__") || !filter.is_array()) co_return false;
  Task<Result<std::string>> choosing = node_daemon(deps, node);
  Result<std::string> daemon_id = co_await choosing;
  if (!daemon_id || daemon_id->empty()) co_return false;
  std::vector<std::string> tags = specs.tags(node.user_id, *daemon_id, tool);
  if (tags.empty()) {
    Task<OfferedTools> asking = specs.for_node(deps, executor, node);
    (void)co_await asking;
    tags = specs.tags(node.user_id, *daemon_id, tool);
  }
  co_return tool_allowed(filter, tool, tags);
}

Task<bool> ExecuteToolsNode::mcp_tags_allowed(ActivityContext& context, const NodeInput& node,
                                              const Json& filter, const std::string& tool) {
  if (!daemon_tools_) co_return false;
  Task<bool> checking = mcp_tags_allow(deps_, *daemon_tools_, context.executor, node, filter, tool);
  co_return co_await checking;
}

// Quoted for /bin/sh: 'it'\''s'.
std::string shell_quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

class RunNode final : public engine::Activity {
 public:
  explicit RunNode(AgentDeps deps) : deps_(std::move(deps)) {}
  std::string_view name() const override {
    return workflow::node_type_info(workflow::NodeType::run).activity;
  }

  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    auto parsed = node_input(input);
    if (!parsed) co_return fail(parsed.error());
    const NodeInput node = std::move(*parsed);
    const Json command = node.args.value("command", Json());
    if (!command.is_string() || command.get<std::string>().empty()) {
      co_return fail(node_error(node, "command is required"));
    }
    std::string text = command.get<std::string>();
    auto chosen_shell = text_arg(node, node.args, "shell");
    if (!chosen_shell) co_return fail(chosen_shell.error());
    const std::string shell = std::move(*chosen_shell);
    if (!shell.empty() && shell != "sh") {
      if (shell != "bash" && shell != "zsh") {
        co_return fail(node_error(node, "shell must be sh, bash or zsh, not \"" + shell + "\""));
      }
      text = shell + " -c " + shell_quoted(text);
    }
    Json tool_input = {{"command", text}, {"separate_stderr", true}};
    if (const Json env = node.args.value("env", Json()); env.is_object() && !env.empty()) {
      tool_input["env"] = env;
    }
    if (const Json dir = node.args.value("working_dir", Json());
        dir.is_string() && !dir.get<std::string>().empty()) {
      tool_input["working_dir"] = dir;
    }
    if (const Json limit = node.args.value("timeout_ms", Json()); limit.is_number_integer()) {
      tool_input["timeout_ms"] = limit;
    } else {
      tool_input["timeout_ms"] = 600000;
    }
    Task<Result<std::string>> choosing = node_daemon(deps_, node);
    Result<std::string> daemon_id = co_await choosing;
    if (!daemon_id) co_return fail(daemon_id.error());
    Task<Result<DaemonAnswer>> calling = call_on_daemon(
        deps_, context, node, *daemon_id, "bash", tool_input, call_request_id(context, 0), "");
    Result<DaemonAnswer> answer = co_await calling;
    if (!answer) co_return fail(answer.error());
    const Json& metadata = answer->metadata;
    if (!metadata.contains("exit_code")) {
      // The command did not run (refused input, an unknown directory …).
      co_return fail(node_error(node, answer->content));
    }
    co_return Json{{"exit_code", metadata.value("exit_code", -1)},
                   {"stdout", metadata.value("stdout", answer->content)},
                   {"stderr", metadata.value("stderr", "")},
                   {"timed_out", metadata.value("timed_out", false)},
                   {"daemon_id", answer->daemon_id}};
  }

 private:
  AgentDeps deps_;
};

// Worktree and branch names go into a shell command and a path: plain names only (a letter or
// digit, then up to 99 of letters, digits and . _ / -, with no "..").
bool plain_name(const std::string& text) {
  if (text.empty() || text.size() > 100 || !std::isalnum(static_cast<unsigned char>(text[0])))
    return false;
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '/' ||
           c == '-';
  });
  return plain && text.find("..") == std::string::npos;
}

// A path copy_files may name: relative, of segments made of letters, digits and . _ -, none of
// them empty, "." or "..", none starting with "-". Dotfiles (.env) are allowed: untracked files
// like them are what a new worktree lacks.
bool plain_path(const std::string& text) {
  if (text.empty() || text.size() > 200) return false;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('/', start), text.size());
    const std::string_view segment = std::string_view(text).substr(start, end - start);
    if (segment.empty() || segment == "." || segment == ".." || segment.front() == '-')
      return false;
    const bool plain = std::all_of(segment.begin(), segment.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
    if (!plain) return false;
    start = end + 1;
  }
  return true;
}

class CreateWorktreeNode final : public engine::Activity {
 public:
  explicit CreateWorktreeNode(AgentDeps deps) : deps_(std::move(deps)) {}
  std::string_view name() const override {
    return workflow::node_type_info(workflow::NodeType::create_worktree).activity;
  }

  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    auto parsed = node_input(input);
    if (!parsed) co_return fail(parsed.error());
    const NodeInput node = std::move(*parsed);
    const Json name_arg = node.args.value("name", Json(""));
    const std::string name = name_arg.is_string() ? name_arg.get<std::string>() : "";
    if (!plain_name(name)) {
      co_return fail(node_error(
          node, "name must be a plain name (letters, digits, . _ - /), not " + name_arg.dump()));
    }
    const Json base_arg = node.args.value("base_branch", Json("HEAD"));
    const std::string base = base_arg.is_string() ? base_arg.get<std::string>() : "";
    if (!plain_name(base))
      co_return fail(node_error(node, "base_branch " + base_arg.dump() + " is not a plain name"));
    const Json force_arg = node.args.value("force", Json(false));
    if (!force_arg.is_boolean()) {
      co_return fail(node_error(node, "force must be true or false, not " + force_arg.dump()));
    }
    const bool force = force_arg.get<bool>();
    // Inside the repository (so the daemon's confined tools reach it), and ignored by it.
    std::string script =
        "set -e; top=$(git rev-parse --show-toplevel); dir=\"$top/.reliant/worktrees/" + name +
        "\"; mkdir -p \"$top/.reliant/worktrees\"; "
        "grep -qx '.reliant/' \"$(git rev-parse --git-common-dir)/info/exclude\" 2>/dev/null || "
        "{ mkdir -p \"$(git rev-parse --git-common-dir)/info\"; echo '.reliant/' >> "
        "\"$(git rev-parse --git-common-dir)/info/exclude\"; }; " +
        std::string("git worktree add ") + (force ? "--force -B " : "-b ") + shell_quoted(name) +
        " \"$dir\" " + shell_quoted(base) + " >&2; ";
    for (const auto& file : node.args.value("copy_files", Json::array())) {
      if (!file.is_string() || !plain_path(file.get<std::string>())) {
        co_return fail(node_error(node, "copy_files must list plain relative paths"));
      }
      const std::string quoted = shell_quoted(file.get<std::string>());
      script += "if [ -e \"$top\"/" + quoted + " ]; then mkdir -p \"$(dirname \"$dir\"/" + quoted +
                ")\"; cp -R \"$top\"/" + quoted + " \"$dir\"/" + quoted + "; fi; ";
    }
    script += "echo \"$dir\"";
    Task<Result<std::string>> choosing = node_daemon(deps_, node);
    Result<std::string> daemon_id = co_await choosing;
    if (!daemon_id) co_return fail(daemon_id.error());
    Task<Result<DaemonAnswer>> calling = call_on_daemon(
        deps_, context, node, *daemon_id, "bash",
        Json{{"command", script}, {"separate_stderr", true}}, call_request_id(context, 0), "");
    Result<DaemonAnswer> answer = co_await calling;
    if (!answer) co_return fail(answer.error());
    const Json& metadata = answer->metadata;
    if (metadata.value("exit_code", -1) != 0) {
      co_return fail(node_error(
          node, "git worktree add failed: " + metadata.value("stderr", answer->content)));
    }
    std::string path = metadata.value("stdout", answer->content);
    while (!path.empty() && (path.back() == '\n' || path.back() == '\r')) path.pop_back();
    if (const auto newline = path.rfind('\n'); newline != std::string::npos) {
      path = path.substr(newline + 1);
    }
    Json output = {{"path", path}, {"branch", name}, {"daemon_id", answer->daemon_id}};
    if (!node.project_id.empty()) {
      WorktreeRecord worktree{"wt-" + context.run_id + "-" + std::to_string(context.scheduled_seq),
                              node.project_id, path, name, to_ms(context.executor.now())};
      Task<Result<void>> recording = deps_.store.transact_for(
          [worktree, user_id = node.user_id](SqlTransaction& tx) -> Result<void> {
            auto existing = find_project(tx, user_id, worktree.project_id);
            if (!existing) return fail(existing.error());
            if (*existing) {
              for (const auto& known : (*existing)->worktrees) {
                if (known.id == worktree.id) return {};  // recorded by an earlier attempt
              }
            }
            return insert_worktree(tx, user_id, worktree);
          });
      Result<void> recorded = co_await recording;
      if (!recorded) co_return fail(recorded.error());
      output["worktree_id"] = worktree.id;
    }
    co_return output;
  }

 private:
  AgentDeps deps_;
};

}  // namespace

void register_node_tool_activities(engine::ActivityRegistry& registry, const AgentDeps& deps,
                                   std::shared_ptr<ConversationCache> conversations,
                                   std::shared_ptr<DaemonToolSpecs> daemon_tools) {
  registry.add(
      std::make_unique<ExecuteToolsNode>(deps, std::move(conversations), std::move(daemon_tools)));
  registry.add(std::make_unique<RunNode>(deps));
  registry.add(std::make_unique<CreateWorktreeNode>(deps));
}

}  // namespace reliant::agent
