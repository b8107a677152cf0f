// What a client can do to a chat, as store transactions plus announcements — shared by every
// API surface (REST, gRPC) and by tests: create, send a message (which starts a workflow run),
// cancel, choose the session daemon, rename, read. A chat without a title takes one from its
// first message (core/agent/chat_title.h), announced as a chat_title update. A message runs the
// chat's workflow (builtin://agent unless the chat or the message chose another) on the durable
// engine. Every call checks the chat belongs to the caller; another user's chat is `not_found`,
// exactly like a chat that does not exist.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/engine/workflow.h"
#include "runtime/env.h"
#include "runtime/ids.h"
#include "services/storage/chats.h"
#include "services/storage/plans.h"

namespace reliant::agent {

struct ChatServiceConfig {
  std::string queue = "reliant";  // the engine namespace the agent runs in
  std::string default_model;      // empty: the worker's default
  std::int64_t message_bytes_max = 256 * 1024;
};

// What a chat runs for each message: a workflow (builtin://NAME, or a project's workflow by
// name) and its inputs (checked against the workflow's input schema when a message runs it).
struct ChatWorkflow {
  std::string workflow = "builtin://agent";
  nlohmann::json inputs = nlohmann::json::object();
  std::string project_id;  // the chat's project: where project workflows come from
  // The presets its runs apply: a name or {group: name} (core/workflow/preset_inputs.h); null:
  // the workflow's defaults.
  nlohmann::json presets;
};

struct SendOptions {
  std::string model;
  nlohmann::json daemon;  // a selector for this run's tools (null: the cascade decides)
  std::optional<std::int64_t> turns_max;
  std::string mode;        // auto | manual | plan: builtin://agent's input
  std::string workflow;    // this message only; empty: the chat's
  nlohmann::json inputs;   // merged over the chat's inputs (null: none)
  nlohmann::json presets;  // this message only, instead of the chat's (null: the chat's)
  // A trigger's firing: a workflow marked automation_only may run (a person's message may not).
  bool from_trigger = false;
};

struct SentMessage {
  std::string message_id;
  std::string run_id;
  std::int64_t seq = 0;  // the user update that records the message: stream from here
};

struct ChatView {
  ChatRecord chat;
  std::vector<MessageRecord> messages;  // one page, in ordinal order
  bool has_more = false;                // more messages beyond the page, in its direction
};

class ChatService {
 public:
  // `env` needs a store and a bus.
  ChatService(Env& env, ChatServiceConfig config);

  Task<Result<ChatRecord>> create_chat(std::string user_id, std::string title,
                                       ChatWorkflow workflow = {});
  Task<Result<std::vector<ChatRecord>>> list_chats(std::string user_id);
  // The chat and one page of its messages (by default its first 100).
  Task<Result<ChatView>> get_chat(std::string user_id, std::string chat_id,
                                  MessagePageQuery page = {});
  // Fails with failed_precondition while the chat's previous message is still being answered,
  // invalid_argument for empty or oversized text, not_found for someone else's chat.
  Task<Result<SentMessage>> send_message(std::string user_id, std::string chat_id, std::string text,
                                         SendOptions options);
  Task<Result<void>> cancel(std::string user_id, std::string chat_id);
  // The plan the chat's planning tools keep (server_tools.h); nullopt before the first.
  Task<Result<std::optional<ChatPlanRecord>>> get_plan(std::string user_id, std::string chat_id);
  // Gives the chat the title (checked_title: trimmed, one line, at most kChatTitleBytesMax
  // bytes) and announces it (a chat_title update); returns the chat as it is now.
  Task<Result<ChatRecord>> rename_chat(std::string user_id, std::string chat_id, std::string title);
  // Empty daemon_id clears it. The daemon must be the user's.
  Task<Result<void>> set_session_daemon(std::string user_id, std::string chat_id,
                                        std::string daemon_id);

 private:
  Env& env_;
  ChatServiceConfig config_;
  IdGenerator ids_;
  // The workflows a chat's run may be of, for its first decision: made with the message's write
  // when it only schedules activities (engine::start_run's decide_first), a chat's first model
  // call, so no worker spends a transaction on it.
  engine::WorkflowRegistry workflows_;
};

}  // namespace reliant::agent
