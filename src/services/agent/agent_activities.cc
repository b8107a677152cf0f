// llm_turn, tool_call and chat_finish: conversation in, one stored message and its updates out.
#include "services/agent/agent_activities.h"

#include "base/json_parse.h"
#include "services/agent/node_activities.h"
#include "services/agent/step_support.h"
#include "services/agent/text_previews.h"

#include <memory>

#include "base/sha256.h"
#include "core/agent/agent_workflow.h"
#include "runtime/scope.h"
#include "runtime/sleep.h"
#include "services/daemon/tools/tool.h"
#include "services/routing/daemon_resolver.h"
#include "services/storage/chats.h"
#include "services/updates/user_events.h"

namespace reliant::agent {
namespace {

using engine::ActivityContext;
using engine::Json;

class LlmTurn final : public engine::Activity {
 public:
  explicit LlmTurn(AgentDeps deps) : deps_(std::move(deps)) {}
  std::string_view name() const override { return llm_turn_activity; }

  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    const std::string chat_id = text_field(input, "chat_id");
    const std::string user_id = text_field(input, "user_id");
    const std::string message_id = step_message_id(context.run_id, context.scheduled_seq);
    // This step's message when an earlier attempt stored it, or else the chat so far. (A value
    // the body returns, not one it appends to: a retried transaction runs the body again.)
    struct Loaded {
      std::optional<MessageRecord> existing;
      std::vector<llm::Message> history;
    };
    auto load = [chat_id, user_id, message_id](SqlTransaction& tx) -> Result<Loaded> {
      auto chat = find_chat(tx, chat_id);
      if (!chat) return fail(chat.error());
      if (!*chat || (*chat)->user_id != user_id)
        return fail(ErrorCode::not_found, "no chat " + chat_id);
      Loaded out;
      auto mine = find_message(tx, message_id);
      if (!mine) return fail(mine.error());
      out.existing = std::move(*mine);
      if (out.existing) return out;
      auto messages = load_messages(tx, chat_id);
      if (!messages) return fail(messages.error());
      for (const auto& m : *messages) out.history.push_back(to_llm(m));
      return out;
    };
    Task<Result<Loaded>> loading = deps_.store.transact_for(std::move(load));
    Result<Loaded> loaded = co_await loading;
    if (!loaded) co_return fail(loaded.error());
    if (loaded->existing) co_return summarize(*loaded->existing);  // an earlier attempt got here

    llm::Request request;
    request.model = input.value("model", deps_.default_model);
    request.tools = deps_.tools;
    request.system =
        "You are Reliant, a software engineering agent. Use the tools to inspect and change the "
        "user's workspace; answer concisely.";
    request.messages = std::move(loaded->history);

    Executor& executor = context.executor;
    TextPreviews previews(executor, deps_.bus, user_id, chat_id);
    llm::TextSink on_text = [&previews, message_id](std::string_view delta) {
      previews.add({{"message_id", message_id}, {"text", delta}});
    };
    Scope beating(executor);
    beating.spawn(keep_alive(executor, context.heartbeat));
    Task<Result<llm::Response>> asking = deps_.llm.complete(std::move(request), std::move(on_text));
    Result<llm::Response> response = co_await asking;
    previews.flush();
    if (!response) co_return fail(response.error());

    MessageRecord message;
    message.id = message_id;
    message.chat_id = chat_id;
    message.role = "assistant";
    message.model = response->model;
    message.input_tokens = response->input_tokens;
    message.output_tokens = response->output_tokens;
    message.created_at_ms = to_ms(executor.now());
    for (const auto& block : response->content) {
      if (block.kind == llm::Block::Kind::text) {
        if (!block.text.empty()) message.blocks.push_back({"text", {{"text", block.text}}});
      } else if (block.kind == llm::Block::Kind::tool_call) {
        message.blocks.push_back(
            {"tool_call",
             {{"id", block.tool_call_id}, {"name", block.tool_name}, {"input", block.input}}});
      }
    }
    // An answer without tool calls is the run's final answer: the run ends with it.
    std::optional<RunEnding> ending;
    const bool calls_tools =
        std::any_of(message.blocks.begin(), message.blocks.end(),
                    [](const ContentBlockRecord& b) { return b.kind == "tool_call"; });
    if (!calls_tools) ending = RunEnding{context.run_id, ChatStatus::idle, "completed", ""};
    Task<Result<MessageRecord>> storing =
        store_message(deps_.store, deps_.bus, user_id, std::move(message), std::move(ending));
    Result<MessageRecord> stored = co_await storing;
    if (!stored) co_return fail(stored.error());
    co_return summarize(*stored);
  }

 private:
  static Json summarize(const MessageRecord& message) {
    std::string text;
    Json calls = Json::array();
    for (const auto& block : message.blocks) {
      if (block.kind == "text") text += text_field(block.body, "text");
      if (block.kind == "tool_call") calls.push_back(block.body);
    }
    return {{"message_id", message.id}, {"text", text}, {"tool_calls", calls}};
  }

  AgentDeps deps_;
};

class ToolCallStep final : public engine::Activity {
 public:
  explicit ToolCallStep(AgentDeps deps) : deps_(std::move(deps)) {}
  std::string_view name() const override { return tool_call_activity; }

  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    const std::string chat_id = text_field(input, "chat_id");
    const std::string user_id = text_field(input, "user_id");
    const Json call = input.value("tool_call", Json::object());
    const std::string call_id = text_field(call, "id");
    const std::string tool = text_field(call, "name");
    const std::string message_id = step_message_id(context.run_id, context.scheduled_seq);
    Executor& executor = context.executor;

    // This step's message when an earlier attempt stored it, and the chat's session daemon.
    struct Loaded {
      std::optional<MessageRecord> existing;
      std::string session_daemon;
    };
    auto load = [chat_id, message_id](SqlTransaction& tx) -> Result<Loaded> {
      Loaded out;
      auto mine = find_message(tx, message_id);
      if (!mine) return fail(mine.error());
      out.existing = std::move(*mine);
      auto chat = find_chat(tx, chat_id);
      if (!chat) return fail(chat.error());
      if (*chat) out.session_daemon = (*chat)->active_daemon_id;
      return out;
    };
    Task<Result<Loaded>> loading = deps_.store.transact_for(std::move(load));
    Result<Loaded> loaded = co_await loading;
    if (!loaded) co_return fail(loaded.error());
    if (loaded->existing) co_return summarize(*loaded->existing);

    routing::DaemonChoice choice;
    if (input.contains("daemon")) {
      auto selector = parse_selector_source(input["daemon"]);
      if (selector) choice.workflow = std::move(*selector);
    }
    if (!loaded->session_daemon.empty()) choice.session_daemon_id = loaded->session_daemon;
    Task<Result<DaemonDecision>> resolving =
        routing::resolve_daemon(deps_.store, user_id, std::move(choice), &deps_.router);
    Result<DaemonDecision> daemon = co_await resolving;

    bool is_error = true;
    std::string content;
    std::string daemon_id;
    if (!daemon) {
      if (daemon.error().code == ErrorCode::unavailable ||
          daemon.error().code == ErrorCode::outcome_unknown) {
        co_return fail(daemon.error());  // the store: retry the step
      }
      content = "no daemon can run " + tool + ": " + daemon.error().message;
    } else {
      daemon_id = daemon->daemon_id;
      preview(deps_.bus, user_id, chat_id, "tool_running",
              {{"tool_call_id", call_id},
               {"name", tool},
               {"input", call.value("input", Json::object())},
               {"daemon_id", daemon_id}},
              to_ms(executor.now()));
      routing::ToolCall request;
      request.user_id = user_id;
      request.daemon_id = daemon_id;
      // The same id on every attempt: the daemon runs the call once and answers repeats.
      request.request_id = context.run_id + "-" + std::to_string(context.scheduled_seq);
      request.tool_name = tool;
      request.input_json = call.value("input", Json::object()).dump();
      request.tool_call_id = call_id;
      request.timeout = milliseconds(input.value("timeout_ms", std::int64_t{600000}));
      UndoIfAbandoned abandoned{context.cleanup, [router = &deps_.router, user_id, daemon_id,
                                                  request_id = request.request_id] {
                                  return cancel_tool_call(router, user_id, daemon_id, request_id);
                                }};
      Scope beating(executor);
      beating.spawn(keep_alive(executor, context.heartbeat));
      Task<Result<daemon::v1::ToolResponse>> sending =
          deps_.router.send_tool_request(std::move(request));
      Result<daemon::v1::ToolResponse> response = co_await sending;
      abandoned.settled = true;
      if (!response) {
        const ErrorCode code = response.error().code;
        if (code == ErrorCode::unavailable || code == ErrorCode::outcome_unknown) {
          co_return fail(response.error());
        }
        content = tool + " did not finish: " + response.error().message;
      } else {
        is_error = response->is_error() || !response->success();
        content = response->content();
        if (content.empty() && !response->error_message().empty())
          content = response->error_message();
      }
    }

    MessageRecord message;
    message.id = message_id;
    message.chat_id = chat_id;
    message.role = "tool";
    message.created_at_ms = to_ms(executor.now());
    message.blocks.push_back({"tool_result",
                              {{"tool_call_id", call_id},
                               {"name", tool},
                               {"content", content},
                               {"is_error", is_error},
                               {"daemon_id", daemon_id}}});
    Task<Result<MessageRecord>> storing =
        store_message(deps_.store, deps_.bus, user_id, std::move(message), std::nullopt);
    Result<MessageRecord> stored = co_await storing;
    if (!stored) co_return fail(stored.error());
    co_return summarize(*stored);
  }

 private:
  static Json summarize(const MessageRecord& message) {
    const Json& body = message.blocks.empty() ? Json::object() : message.blocks.front().body;
    return {{"message_id", message.id},
            {"content", text_field(body, "content")},
            {"is_error", bool_field(body, "is_error")}};
  }
  AgentDeps deps_;
};

class ChatFinish final : public engine::Activity {
 public:
  explicit ChatFinish(AgentDeps deps) : deps_(std::move(deps)) {}
  std::string_view name() const override { return chat_finish_activity; }

  Task<Result<Json>> run(ActivityContext& context, Json input) override {
    Task<Result<void>> writing =
        updates::commit_and_announce(deps_.store, deps_.bus, finish(context, input));
    Result<void> written = co_await writing;
    if (!written) co_return fail(written.error());
    co_return Json::object();
  }

  std::optional<engine::StoreWork> store_work(const ActivityContext& context,
                                              const Json& input) override {
    return store_work_with_updates(deps_.store, deps_.bus, Json::object(), finish(context, input));
  }

 private:
  // The chat's end (and, unless the run completed, a message that says why), once.
  std::function<Result<void>(SqlTransaction&, std::vector<updates::UserEvent>&)> finish(
      const ActivityContext& context, const Json& input) const {
    const std::string chat_id = text_field(input, "chat_id");
    const std::string user_id = text_field(input, "user_id");
    const std::string outcome = input.value("outcome", "completed");
    const std::string run_id = context.run_id;
    const std::int64_t now_ms = to_ms(context.executor.now());
    const ChatStatus status = outcome == "failed" ? ChatStatus::failed : ChatStatus::idle;
    std::optional<MessageRecord> notice;
    if (outcome != "completed") {
      MessageRecord message;
      message.id = step_message_id(run_id, context.scheduled_seq);
      message.chat_id = chat_id;
      message.role = "assistant";
      message.created_at_ms = now_ms;
      if (outcome == "failed") {
        message.blocks.push_back({"error", {{"message", text_field(input, "error")}}});
      } else {
        message.blocks.push_back(
            {"text",
             {{"text", "Stopped after " + std::to_string(input.value("turns", 0)) +
                           " turns (max_turns) before a final answer."}}});
      }
      notice = std::move(message);
    }
    return [chat_id, user_id, run_id, status, outcome, now_ms, notice,
            dialect = deps_.store.dialect(), error = text_field(input, "error")](
               SqlTransaction& tx, std::vector<updates::UserEvent>& events) -> Result<void> {
      if (notice) {
        auto written = insert_message_once(tx, dialect, *notice);
        if (!written) return fail(written.error());
        if (!written->inserted) return {};  // recorded by an earlier attempt
        events.push_back(
            updates::UserEvent{user_id, 0, "message", chat_id, to_json(written->message), now_ms});
      }
      return end_run(tx, user_id, chat_id, RunEnding{run_id, status, outcome, error}, now_ms,
                     events);
    };
  }

 private:
  AgentDeps deps_;
};

}  // namespace

std::string step_message_id(const std::string& run_id, std::int64_t scheduled_seq) {
  return "m-" + run_id + "-" + std::to_string(scheduled_seq);
}

std::string node_message_id(const std::string& run_id, std::string_view node_key) {
  const Sha256::Digest digest = Sha256::of(node_key);
  return "m-" + run_id + "-n" + to_hex(digest.data(), 8);
}

std::vector<llm::ToolSpec> builtin_tool_specs() {
  const daemon::ToolSet tools = daemon::make_builtin_tools();
  std::vector<llm::ToolSpec> specs;
  for (const auto& name : tools.names()) {
    const daemon::Tool* tool = tools.find(name);
    specs.push_back({name, std::string(tool->description()), tool->input_schema()});
  }
  return specs;
}

void register_agent_activities(engine::ActivityRegistry& registry, const AgentDeps& deps) {
  registry.add(std::make_unique<LlmTurn>(deps));
  registry.add(std::make_unique<ToolCallStep>(deps));
  registry.add(std::make_unique<ChatFinish>(deps));
  register_node_activities(registry, deps);
}

}  // namespace reliant::agent
