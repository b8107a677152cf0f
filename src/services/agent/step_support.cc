// The shared pieces of agent steps and workflow node activities.
#include "services/agent/step_support.h"

#include "core/agent/agent_workflow.h"
#include "runtime/sleep.h"

namespace reliant::agent {

using Json = nlohmann::json;

llm::Message to_llm(const MessageRecord& stored) {
  llm::Message message;
  message.role = stored.role == "assistant" ? llm::Message::Role::assistant
                 : stored.role == "tool"    ? llm::Message::Role::tool
                                            : llm::Message::Role::user;
  for (const auto& block : stored.blocks) {
    llm::Block b;
    if (block.kind == "text") {
      b.text = block.body.value("text", "");
    } else if (block.kind == "tool_call") {
      b.kind = llm::Block::Kind::tool_call;
      b.tool_call_id = block.body.value("id", "");
      b.tool_name = block.body.value("name", "");
      b.input = block.body.value("input", Json::object());
    } else if (block.kind == "tool_result") {
      b.kind = llm::Block::Kind::tool_result;
      b.tool_call_id = block.body.value("tool_call_id", "");
      b.text = block.body.value("content", "");
      b.is_error = block.body.value("is_error", false);
    } else {
      continue;  // thinking, errors: not sent back to the model
    }
    message.content.push_back(std::move(b));
  }
  return message;
}

// Moves the chat out of `running` and records a chat_status update — only while `run_id` is
// still the chat's current run (a cancelled run's late steps change nothing).
Result<void> end_run(SqlTransaction& tx, const std::string& user_id, const std::string& chat_id,
                     const RunEnding& ending, std::int64_t now_ms,
                     std::vector<updates::UserEvent>& events) {
  auto moved = tx.execute(
      "UPDATE chats SET status = $2, updated_at_ms = $3 WHERE id = $1 AND workflow_run_id = $4 "
      "AND status = 'running'",
      {chat_id, std::string(to_string(ending.status)), now_ms, ending.run_id});
  if (!moved) return fail(moved.error());
  if (*moved == 0) return {};
  Json body = {{"status", ending.status}, {"run_id", ending.run_id}, {"outcome", ending.outcome}};
  if (!ending.error.empty()) body["error"] = ending.error;
  events.push_back(updates::UserEvent{user_id, 0, "chat_status", chat_id, body, now_ms});
  return {};
}

// Writes `message` once and, when this call wrote it, its `message` update — and, with an
// `ending`, the end of the run in the same transaction (the user sees the answer and the end
// together); then announces. Returns the stored message (the first attempt's, when a retry got
// here second).
Result<MessageRecord> write_message(SqlTransaction& tx, SqlDialect dialect,
                                    const std::string& user_id, const MessageRecord& message,
                                    const std::optional<RunEnding>& ending,
                                    std::vector<updates::UserEvent>& events) {
  auto written = insert_message_once(tx, dialect, message);
  if (!written) return fail(written.error());
  if (!written->inserted) return std::move(written->message);
  if (message.thread.empty()) {  // the chat shows its main thread only
    events.push_back(updates::UserEvent{user_id, 0, "message", message.chat_id,
                                        to_json(written->message), message.created_at_ms});
  }
  if (ending) {
    auto ended = end_run(tx, user_id, message.chat_id, *ending, message.created_at_ms, events);
    if (!ended) return fail(ended.error());
  }
  return std::move(written->message);
}

Task<Result<MessageRecord>> store_message(Store& store, Bus* bus, std::string user_id,
                                          MessageRecord message, std::optional<RunEnding> ending) {
  auto body = [user_id, message = std::move(message), ending = std::move(ending),
               dialect = store.dialect()](SqlTransaction& tx,
                                          std::vector<updates::UserEvent>& events) {
    return write_message(tx, dialect, user_id, message, ending, events);
  };
  Task<Result<MessageRecord>> writing = updates::commit_and_announce(store, bus, std::move(body));
  Result<MessageRecord> stored = co_await writing;
  co_return stored;
}

engine::StoreWork store_work_with_updates(
    Store& store, Bus* bus, nlohmann::json result,
    std::function<Result<void>(SqlTransaction&, std::vector<updates::UserEvent>&)> body) {
  // Shared by the write and the worker, which announces what committed.
  auto events = std::make_shared<std::vector<updates::UserEvent>>();
  engine::StoreWork work;
  work.result = std::move(result);
  work.write = updates::recording_updates<Result<void>>(std::move(body), store.dialect(), events);
  work.updates = std::move(events);
  work.bus = bus;
  return work;
}

// Beats for an activity that waits on something slow (a model, a tool), so a worker that dies
// mid-step is noticed after the heartbeat timeout rather than the whole start-to-close time.
Task<void> keep_alive(Executor& executor, std::function<void()> heartbeat) {
  for (;;) {
    co_await sleep(executor, agent_heartbeat_interval);
    if (heartbeat) heartbeat();
  }
}

Task<void> cancel_tool_call(routing::DaemonRouter* router, std::string user_id,
                            std::string daemon_id, std::string request_id) {
  // Dropped when its timeout passed or its run was cancelled: the message says both.
  Task<Result<void>> cancelling =
      router->cancel_tool(std::move(user_id), std::move(daemon_id), std::move(request_id),
                          "the step stopped: its timeout passed or its run was cancelled");
  Result<void> cancelled = co_await cancelling;
  (void)cancelled;  // best effort: a tool that already finished has nothing to stop
}

UndoIfAbandoned::~UndoIfAbandoned() {
  if (settled || cleanup == nullptr || cleanup->closing() || !undo) return;
  cleanup->spawn(undo());
}

void preview(Bus* bus, const std::string& user_id, const std::string& chat_id, std::string kind,
             Json body, std::int64_t now_ms) {
  if (bus)
    updates::announce(*bus, {{user_id, 0, std::move(kind), chat_id, std::move(body), now_ms}});
}

}  // namespace reliant::agent
