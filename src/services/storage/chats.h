// Chats, their messages and content blocks (spec S3.2's data model). A message is written once:
// its id is chosen by the caller (the agent derives it from the run and step), so a retried
// step finds the first write instead of adding a second message.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/enum_names.h"
#include "runtime/store.h"

namespace reliant {

// Idle: no run, or the last one completed. Running: a run answers the latest message. Failed:
// the last run failed. Cancelled: the user cancelled the last run. A new message may start a run
// from any state but running.
enum class ChatStatus { idle, running, failed, cancelled };
inline constexpr EnumNames<ChatStatus, 4> kChatStatusNames{{
    {ChatStatus::idle, "idle"},
    {ChatStatus::running, "running"},
    {ChatStatus::failed, "failed"},
    {ChatStatus::cancelled, "cancelled"},
}};
RELIANT_JSON_BY_NAME(ChatStatus, kChatStatusNames)
constexpr std::string_view to_string(ChatStatus status) {
  return name_of(kChatStatusNames, status);
}

struct ChatRecord {
  std::string id;
  std::string user_id;
  std::string title;
  ChatStatus status = ChatStatus::idle;
  std::string workflow_run_id;   // the latest run, if any
  std::string active_daemon_id;  // the session daemon; empty: none
  std::string project_id;        // empty: none
  // What each message runs unless it says otherwise: builtin://NAME or a project's workflow by
  // name, with these inputs.
  std::string workflow = "builtin://agent";
  nlohmann::json workflow_inputs = nlohmann::json::object();
  // The presets its runs apply under those inputs: {group: name}, "default" for the workflow's
  // own inputs (core/workflow/preset_inputs.h); empty: the workflow's defaults.
  nlohmann::json presets = nlohmann::json::object();
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

struct ContentBlockRecord {
  std::string kind;  // text | tool_call | tool_result | thinking | image | error
  nlohmann::json body = nlohmann::json::object();
};

struct MessageRecord {
  std::string id;
  std::string chat_id;
  std::string thread;        // "" the chat's main thread (what it shows); see threads.h
  std::int64_t ordinal = 0;  // assigned on insert: 1, 2, … per chat, across its threads
  std::string role;          // user | assistant | system | tool
  std::string model;
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;
  std::int64_t created_at_ms = 0;
  std::vector<ContentBlockRecord> blocks;
};

// Sent with the body's next statement where the store can (SqlTransaction::defer), a round trip
// saved: a chat's id is always a new one, and a failure fails that statement instead.
Result<void> insert_chat(SqlTransaction& tx, const ChatRecord& chat);
Result<std::optional<ChatRecord>> find_chat(SqlTransaction& tx, const std::string& id);
// find_chat's statement and the reading of its rows, for a caller that sends it with others.
SqlStatement find_chat_statement(const std::string& id);
// The same read, which on Postgres also locks the chat's row until the transaction ends: a
// transaction that decides on the chat's status (a send, which may start a run only on a chat
// not running) waits for another deciding on it and then reads what it wrote. SQLite's writers
// are serialised already (BEGIN IMMEDIATE).
SqlStatement lock_chat_statement(SqlDialect dialect, const std::string& id);
Result<std::optional<ChatRecord>> chat_of(const SqlRows& rows);
// Newest first.
Result<std::vector<ChatRecord>> list_chats(SqlTransaction& tx, const std::string& user_id,
                                           std::int64_t limit);
Result<void> update_chat_status(SqlTransaction& tx, const std::string& chat_id, ChatStatus status,
                                const std::string& run_id, std::int64_t now_ms);
Result<void> set_session_daemon(SqlTransaction& tx, const std::string& chat_id,
                                const std::optional<std::string>& daemon_id, std::int64_t now_ms);
Result<void> set_chat_title(SqlTransaction& tx, const std::string& chat_id,
                            const std::string& title, std::int64_t now_ms);

// Inserts the message with the next ordinal unless a message with its id exists. Returns the
// stored message either way (the first write wins) and whether this call wrote it.
struct StoredMessage {
  MessageRecord message;
  bool inserted = false;
};
// With `chat_status`, the message's chat takes that status and run (update_chat_status) in the
// same write, whether or not the message is new; on Postgres, in the same statement.
struct ChatStatusChange {
  ChatStatus status = ChatStatus::idle;
  std::string run_id;  // empty: the chat keeps its run
};
Result<StoredMessage> insert_message_once(SqlTransaction& tx, SqlDialect dialect,
                                          const MessageRecord& message,
                                          const std::optional<ChatStatusChange>& chat_status = {});
// The ordinal a chat's next message takes (next_ordinal_of reads it): stable while the chat's
// row is locked (lock_chat_statement) when read after the lock is taken (query_together runs it
// after the lock statement).
SqlStatement next_ordinal_statement(const std::string& chat_id);
std::int64_t next_ordinal_of(const SqlRows& rows);
// A message with a new id and the ordinal next_ordinal_statement read, written with its chat's
// status change by a transaction holding the chat's lock: on Postgres, deferred (SqlTransaction::
// defer) to go with the body's next statement, one round trip fewer than insert_message_once; a
// message whose ordinal or id is taken after all fails the transaction there (the unique keys),
// elsewhere the body (internal). Either would mean the chat was not locked or the id not new.
Result<void> insert_new_message(SqlTransaction& tx, SqlDialect dialect,
                                const MessageRecord& message, const ChatStatusChange& chat_status);
Result<std::optional<MessageRecord>> find_message(SqlTransaction& tx, const std::string& id);
// The main thread's messages in ordinal order, with their blocks, in one query.
Result<std::vector<MessageRecord>> load_messages(SqlTransaction& tx, const std::string& chat_id);
// One thread's own messages (not what it inherits: threads.h), with ordinal ≤ `through_ordinal`
// and > `after_ordinal` when given, in one query.
Result<std::vector<MessageRecord>> load_thread_messages(
    SqlTransaction& tx, const std::string& chat_id, const std::string& thread,
    std::optional<std::int64_t> through_ordinal = std::nullopt, std::int64_t after_ordinal = 0);
// load_thread_messages' statement and the reading of its rows, for a caller that sends it with
// others (SqlTransaction::query_together).
SqlStatement thread_messages_statement(const std::string& chat_id, const std::string& thread,
                                       std::optional<std::int64_t> through_ordinal,
                                       std::int64_t after_ordinal);
std::vector<MessageRecord> thread_messages_from(const SqlRows& rows);

// A page of a chat's messages holds kMessagePageDefault messages unless a limit is asked, and
// never more than kMessagePageMax.
inline constexpr std::int64_t kMessagePageDefault = 100;
inline constexpr std::int64_t kMessagePageMax = 1000;

// Which page of a chat's main-thread messages to read: those after `after_ordinal` (0: from the
// first), or, with `before_ordinal`, those just before it; at most `limit` messages and, beyond the
// first, at most `bytes_max` of content blocks (so that a few huge tool outputs do not make
// one answer of tens of megabytes).
struct MessagePageQuery {
  std::int64_t after_ordinal = 0;
  std::optional<std::int64_t> before_ordinal;
  std::int64_t limit = kMessagePageDefault;
  std::size_t bytes_max = 4 << 20;
};
struct MessagePage {
  std::vector<MessageRecord> messages;  // in ordinal order either way
  bool has_more = false;                // more messages lie beyond the page, in its direction
};
Result<MessagePage> load_message_page(SqlTransaction& tx, const std::string& chat_id,
                                      const MessagePageQuery& query);

nlohmann::json to_json(const ChatRecord& chat);
nlohmann::json to_json(const MessageRecord& message);

}  // namespace reliant
