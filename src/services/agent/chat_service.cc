// Chat operations: each one transaction (with its updates) and, after the commit, the
// announcements and the engine's wake-up.
#include "services/agent/chat_service.h"
#include "services/agent/chat_run_request.h"

#include <memory>

#include <algorithm>

#include "base/assert.h"
#include "core/agent/agent_workflow.h"
#include "core/agent/chat_title.h"
#include "core/daemon_selection.h"
#include "core/workflow/engine_workflow.h"
#include "core/workflow/inputs.h"
#include "core/workflow/preset_inputs.h"
#include "core/workflow/selector_expressions.h"
#include "services/agent/step_support.h"
#include "services/engine/engine_sql.h"
#include "services/storage/daemons.h"
#include "services/storage/preset_library.h"
#include "services/storage/project_workflows.h"
#include "services/storage/projects.h"
#include "services/updates/user_events.h"
#include "services/worker/worker.h"

namespace reliant::agent {
namespace {

using Events = std::vector<updates::UserEvent>;

// The chat read, when it is `user_id`'s; not_found otherwise (the same answer as for no chat).
Result<ChatRecord> owned(Result<std::optional<ChatRecord>> chat, const std::string& user_id,
                         const std::string& chat_id) {
  if (!chat) return fail(chat.error());
  if (!*chat || (*chat)->user_id != user_id)
    return fail(ErrorCode::not_found, "no chat " + chat_id);
  return std::move(**chat);
}

// The chat, when it is `user_id`'s.
Result<ChatRecord> owned_chat(SqlTransaction& tx, const std::string& user_id,
                              const std::string& chat_id) {
  return owned(find_chat(tx, chat_id), user_id, chat_id);
}

// The chat, when it is `user_id`'s, the presets a run of it starts under and its next message's
// ordinal, read together (on Postgres, one round trip). The chat's row stays locked until the
// transaction ends: two messages sent at once must not both find the chat idle and each start a
// run, and the ordinal stays the next.
struct ChatAndPresets {
  ChatRecord chat;
  PresetLibrary presets;
  std::int64_t next_ordinal = 0;
};
Result<ChatAndPresets> locked_chat_and_presets(SqlTransaction& tx, SqlDialect dialect,
                                               const std::string& user_id,
                                               const std::string& chat_id) {
  auto read = tx.query_together({lock_chat_statement(dialect, chat_id),
                                 chat_presets_statement(user_id, chat_id),
                                 next_ordinal_statement(chat_id)});
  if (!read) return fail(read.error());
  auto chat = owned(chat_of((*read)[0]), user_id, chat_id);
  if (!chat) return fail(chat.error());
  return ChatAndPresets{std::move(*chat), PresetLibrary::of(presets_from((*read)[1])),
                        next_ordinal_of((*read)[2])};
}

// A chat nobody named takes its title from its first message (the one `message` is, when the
// chat has no title yet), announced as a chat_title update.
Result<void> title_untitled_chat(SqlTransaction& tx, const ChatRecord& chat,
                                 const MessageRecord& message, Events& events,
                                 std::int64_t now_ms) {
  if (!chat.title.empty() || message.blocks.empty()) return {};
  const std::string title = title_from_message(message.blocks.front().body.value("text", ""));
  if (title.empty()) return {};
  if (auto ok = set_chat_title(tx, chat.id, title, now_ms); !ok) return ok;
  events.push_back({chat.user_id, 0, "chat_title", chat.id, {{"title", title}}, now_ms});
  return {};
}

// What a message is refused for before anything is read: no text or too much, a daemon selector
// of the wrong form (an expression is evaluated later, with the inputs), inputs not a map.
Result<void> checked_message(const std::string& text, const SendOptions& options,
                             std::int64_t message_bytes_max) {
  if (text.empty()) return fail(ErrorCode::invalid_argument, "the message is empty");
  if (static_cast<std::int64_t>(text.size()) > message_bytes_max) {
    return fail(ErrorCode::resource_exhausted, "the message has " + std::to_string(text.size()) +
                                                   " bytes; the limit is " +
                                                   std::to_string(message_bytes_max));
  }
  if (!options.daemon.is_null()) {
    if (auto selector = parse_selector_source(options.daemon); !selector) {
      return fail(ErrorCode::invalid_argument, "daemon selector: " + selector.error().message);
    }
  }
  if (!options.inputs.is_null() && !options.inputs.is_object()) {
    return fail(ErrorCode::invalid_argument, "inputs must be a map");
  }
  return {};
}

}  // namespace

ChatService::ChatService(Env& env, ChatServiceConfig config)
    : env_(env), config_(std::move(config)), ids_(env.executor, env.random.split("chat-service")) {
  register_agent_workflow(workflows_);
}

Task<Result<ChatRecord>> ChatService::create_chat(std::string user_id, std::string title,
                                                  ChatWorkflow workflow) {
  if (title.size() > 500)
    co_return fail(ErrorCode::invalid_argument, "title longer than 500 bytes");
  if (workflow.inputs.is_null()) workflow.inputs = nlohmann::json::object();
  if (!workflow.inputs.is_object())
    co_return fail(ErrorCode::invalid_argument, "the workflow's inputs must be a map");
  ChatRecord chat;
  chat.id = ids_.next();
  chat.user_id = user_id;
  chat.title = std::move(title);
  chat.workflow = workflow.workflow.empty() ? "builtin://agent" : workflow.workflow;
  chat.workflow_inputs = std::move(workflow.inputs);
  chat.project_id = std::move(workflow.project_id);
  if (!workflow.presets.is_null()) {
    chat.presets = workflow.presets.is_string()
                       ? nlohmann::json{{std::string(workflow::kOwnInputsGroup), workflow.presets}}
                       : std::move(workflow.presets);
  }
  chat.created_at_ms = chat.updated_at_ms = to_ms(env_.executor.now());
  auto body = [chat, default_model = config_.default_model](SqlTransaction& tx,
                                                            Events& events) -> Result<void> {
    if (!chat.project_id.empty()) {
      auto owned = owns_project(tx, chat.user_id, chat.project_id);
      if (!owned) return fail(owned.error());
      if (!*owned) return fail(ErrorCode::not_found, "no project " + chat.project_id);
    }
    // The workflow and inputs are checked now, so a chat that cannot run is refused at once.
    auto request = chat_run_request(tx, chat, SendOptions{}, default_model, "");
    if (!request) return fail(request.error());
    if (auto ok = insert_chat(tx, chat); !ok) return ok;
    events.push_back({chat.user_id, 0, "chat_created", chat.id, to_json(chat), chat.created_at_ms});
    return {};
  };
  Task<Result<void>> writing = updates::commit_and_announce(*env_.store, env_.bus, std::move(body));
  Result<void> written = co_await writing;
  if (!written) co_return fail(written.error());
  co_return chat;
}

Task<Result<std::vector<ChatRecord>>> ChatService::list_chats(std::string user_id) {
  Task<Result<std::vector<ChatRecord>>> reading = env_.store->transact_for(
      [user_id](SqlTransaction& tx) { return reliant::list_chats(tx, user_id, 200); });
  co_return co_await reading;
}

Task<Result<ChatView>> ChatService::get_chat(std::string user_id, std::string chat_id,
                                             MessagePageQuery page) {
  Task<Result<ChatView>> reading =
      env_.store->transact_for([user_id, chat_id, page](SqlTransaction& tx) -> Result<ChatView> {
        auto chat = owned_chat(tx, user_id, chat_id);
        if (!chat) return fail(chat.error());
        auto messages = load_message_page(tx, chat_id, page);
        if (!messages) return fail(messages.error());
        return ChatView{std::move(*chat), std::move(messages->messages), messages->has_more};
      });
  co_return co_await reading;
}

Task<Result<SentMessage>> ChatService::send_message(std::string user_id, std::string chat_id,
                                                    std::string text, SendOptions options) {
  if (auto ok = checked_message(text, options, config_.message_bytes_max); !ok)
    co_return fail(ok.error());
  const std::int64_t now_ms = to_ms(env_.executor.now());
  MessageRecord message;
  message.id = ids_.next();
  message.chat_id = chat_id;
  message.role = "user";
  message.created_at_ms = now_ms;
  message.blocks.push_back({"text", {{"text", std::move(text)}}});
  const std::string run_id = ids_.next();

  // The message's update comes first: its number is where the sender can follow the answer from.
  // The tasks the run's start makes ready, named in the wake-up (set again by each attempt).
  auto ready = std::make_shared<std::vector<std::string>>();
  auto body = [user_id, message, run_id, options, now_ms, queue = config_.queue,
               default_model = config_.default_model, dialect = env_.store->dialect(),
               workflows = &workflows_, ready](SqlTransaction& tx, Events& events) -> Result<void> {
    ready->clear();
    auto read = locked_chat_and_presets(tx, dialect, user_id, message.chat_id);
    if (!read) return fail(read.error());
    const ChatRecord* chat = &read->chat;
    if (chat->status == ChatStatus::running) {
      return fail(ErrorCode::failed_precondition,
                  "chat " + chat->id + " is still answering its previous message (run " +
                      chat->workflow_run_id + "); wait for it or cancel it");
    }
    auto request = chat_run_request(tx, *chat, options, default_model, run_id, &read->presets);
    if (!request) return fail(request.error());
    const engine::NewRun run{run_id, queue, std::string(workflow::kEngineWorkflowName),
                             workflow::to_json(*request)};
    // The chat runs `run` from this write on (with the message's, on Postgres: one statement,
    // sent with the next).
    MessageRecord stored = message;
    stored.ordinal = read->next_ordinal;
    if (auto ok =
            insert_new_message(tx, dialect, stored, ChatStatusChange{ChatStatus::running, run.id});
        !ok)
      return ok;
    events.push_back({user_id, 0, "message", message.chat_id, to_json(stored), now_ms});
    if (auto ok = title_untitled_chat(tx, *chat, message, events, now_ms); !ok) return ok;
    // A new run id: its write goes with the updates' statement, its first decision with it.
    if (auto ok = engine::start_run(tx, dialect, run, now_ms, engine::RunStartSent::with_next,
                                    workflows, ready.get());
        !ok)
      return fail(ok.error());
    events.push_back({user_id,
                      0,
                      "chat_status",
                      message.chat_id,
                      {{"status", ChatStatus::running}, {"run_id", run.id}},
                      now_ms});
    return {};
  };
  Events committed;
  Task<Result<void>> writing =
      updates::commit_and_announce(*env_.store, env_.bus, std::move(body), &committed);
  Result<void> written = co_await writing;
  if (!written) co_return fail(written.error());
  RELIANT_ASSERT(!committed.empty() && committed.front().kind == "message");
  engine::announce_start(*env_.bus, config_.queue, run_id, user_id, *ready);
  co_return SentMessage{message.id, run_id, committed.front().seq};
}

Task<Result<std::optional<ChatPlanRecord>>> ChatService::get_plan(std::string user_id,
                                                                  std::string chat_id) {
  Task<Result<std::optional<ChatPlanRecord>>> reading = env_.store->transact_for(
      [user_id, chat_id](SqlTransaction& tx) -> Result<std::optional<ChatPlanRecord>> {
        auto chat = owned_chat(tx, user_id, chat_id);
        if (!chat) return fail(chat.error());
        return find_chat_plan(tx, chat_id);
      });
  co_return co_await reading;
}

Task<Result<void>> ChatService::cancel(std::string user_id, std::string chat_id) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  auto body = [user_id, chat_id, now_ms, dialect = env_.store->dialect()](
                  SqlTransaction& tx, Events& events) -> Result<void> {
    auto chat = owned_chat(tx, user_id, chat_id);
    if (!chat) return fail(chat.error());
    if (chat->status != ChatStatus::running)
      return {};  // nothing to cancel: cancelling twice is fine
    if (auto ok =
            engine::cancel_run(tx, dialect, chat->workflow_run_id, "cancelled by the user", now_ms);
        !ok) {
      if (ok.error().code != ErrorCode::failed_precondition) return ok;  // already finished
    }
    // Only while that run is still the chat's: if it ended and a new message started another
    // since the read above, the chat stays with the new run.
    return end_run(tx, user_id, chat_id,
                   RunEnding{chat->workflow_run_id, ChatStatus::cancelled, "cancelled", ""}, now_ms,
                   events);
  };
  Task<Result<void>> writing = updates::commit_and_announce(*env_.store, env_.bus, std::move(body));
  Result<void> written = co_await writing;
  if (!written) co_return fail(written.error());
  (void)env_.bus->publish(engine::wake_subject(config_.queue), "");
  co_return Result<void>{};
}

Task<Result<ChatRecord>> ChatService::rename_chat(std::string user_id, std::string chat_id,
                                                  std::string title) {
  auto checked = checked_title(title);
  if (!checked) co_return fail(checked.error());
  const std::int64_t now_ms = to_ms(env_.executor.now());
  auto body = [user_id, chat_id, title = std::move(*checked), now_ms](
                  SqlTransaction& tx, Events& events) -> Result<ChatRecord> {
    auto chat = owned_chat(tx, user_id, chat_id);
    if (!chat) return fail(chat.error());
    if (auto ok = set_chat_title(tx, chat_id, title, now_ms); !ok) return fail(ok.error());
    chat->title = title;
    chat->updated_at_ms = now_ms;
    events.push_back({user_id, 0, "chat_title", chat_id, {{"title", title}}, now_ms});
    return std::move(*chat);
  };
  Task<Result<ChatRecord>> writing =
      updates::commit_and_announce(*env_.store, env_.bus, std::move(body));
  co_return co_await writing;
}

Task<Result<void>> ChatService::set_session_daemon(std::string user_id, std::string chat_id,
                                                   std::string daemon_id) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  auto body = [user_id, chat_id, daemon_id, now_ms](SqlTransaction& tx,
                                                    Events& events) -> Result<void> {
    auto chat = owned_chat(tx, user_id, chat_id);
    if (!chat) return fail(chat.error());
    if (!daemon_id.empty()) {
      auto daemon = find_daemon(tx, daemon_id);
      if (!daemon) return fail(daemon.error());
      if (!*daemon || (*daemon)->user_id != user_id)
        return fail(ErrorCode::not_found, "no daemon " + daemon_id);
    }
    std::optional<std::string> value;
    if (!daemon_id.empty()) value = daemon_id;
    if (auto ok = reliant::set_session_daemon(tx, chat_id, value, now_ms); !ok) return ok;
    events.push_back(
        {user_id, 0, "chat_daemon", chat_id, {{"active_daemon_id", daemon_id}}, now_ms});
    return {};
  };
  Task<Result<void>> writing = updates::commit_and_announce(*env_.store, env_.bus, std::move(body));
  Result<void> written = co_await writing;
  if (!written) co_return fail(written.error());
  co_return Result<void>{};
}

}  // namespace reliant::agent
