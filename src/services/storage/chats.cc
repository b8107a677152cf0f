// Chat, message and content block rows.
#include "services/storage/chats.h"

#include <algorithm>
#include <limits>

#include "base/assert.h"
#include "base/json_parse.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

constexpr const char* kChatColumns =
    "id, user_id, title, status, workflow_run_id, active_daemon_id, created_at_ms, updated_at_ms, "
    "project_id, workflow_name, workflow_inputs_json, presets_json";

Result<ChatRecord> chat_from(const SqlRecord& r) {
  auto status = r.enumerated("status", kChatStatusNames);
  if (!status) return fail(status.error());
  ChatRecord c;
  c.id = r.text("id");
  c.user_id = r.text("user_id");
  c.title = r.text("title");
  c.status = *status;
  c.workflow_run_id = r.text_or_empty("workflow_run_id");
  c.active_daemon_id = r.text_or_empty("active_daemon_id");
  c.created_at_ms = r.integer("created_at_ms");
  c.updated_at_ms = r.integer("updated_at_ms");
  c.project_id = r.text_or_empty("project_id");
  c.workflow = r.text("workflow_name");
  c.workflow_inputs = parse_json_or_discarded(r.text("workflow_inputs_json"), kStoredJsonDepthMax);
  if (!c.workflow_inputs.is_object()) c.workflow_inputs = nlohmann::json::object();
  c.presets = parse_json_or_discarded(r.text("presets_json"), kStoredJsonDepthMax);
  if (!c.presets.is_object()) c.presets = nlohmann::json::object();
  return c;
}

constexpr const char* kMessageColumns =
    "id, chat_id, thread, ordinal, role, model, input_tokens, output_tokens, created_at_ms";

MessageRecord message_from(const SqlRecord& r) {
  MessageRecord m;
  m.id = r.text("id");
  m.chat_id = r.text("chat_id");
  m.thread = r.text("thread");
  m.ordinal = r.integer("ordinal");
  m.role = r.text("role");
  m.model = r.text("model");
  m.input_tokens = r.integer("input_tokens");
  m.output_tokens = r.integer("output_tokens");
  m.created_at_ms = r.integer("created_at_ms");
  return m;
}

// Adds the blocks' stored size to *bytes when given.
Result<void> load_blocks(SqlTransaction& tx, MessageRecord& message, std::size_t* bytes = nullptr) {
  auto rows =
      tx.query("SELECT kind, body_json FROM content_blocks WHERE message_id = $1 ORDER BY ordinal",
               {message.id});
  if (!rows) return fail(rows.error());
  for (const SqlRecord& row : records(*rows)) {
    const std::string text = row.text("body_json");
    if (bytes != nullptr) *bytes += text.size();
    auto body = parse_json_or_discarded(text, kStoredJsonDepthMax);
    message.blocks.push_back({row.text("kind"), body.is_discarded() ? nlohmann::json() : body});
  }
  return {};
}

}  // namespace

Result<void> insert_chat(SqlTransaction& tx, const ChatRecord& c) {
  return tx.defer(
      "INSERT INTO chats (id, user_id, title, status, workflow_run_id, active_daemon_id, "
      "created_at_ms, updated_at_ms, project_id, workflow_name, workflow_inputs_json, "
      "presets_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
      {c.id, c.user_id, c.title, std::string(to_string(c.status)),
       c.workflow_run_id.empty() ? SqlValue(nullptr) : SqlValue(c.workflow_run_id),
       c.active_daemon_id.empty() ? SqlValue(nullptr) : SqlValue(c.active_daemon_id),
       c.created_at_ms, c.updated_at_ms,
       c.project_id.empty() ? SqlValue(nullptr) : SqlValue(c.project_id), c.workflow,
       c.workflow_inputs.dump(), c.presets.dump()});
}

Result<std::optional<ChatRecord>> find_chat(SqlTransaction& tx, const std::string& id) {
  const SqlStatement statement = find_chat_statement(id);
  auto rows = tx.query(statement.sql, statement.params);
  if (!rows) return fail(rows.error());
  return chat_of(*rows);
}

SqlStatement find_chat_statement(const std::string& id) {
  static const std::string sql =
      std::string("SELECT ") + kChatColumns + " FROM chats WHERE id = $1";
  return {sql, {id}};
}

SqlStatement lock_chat_statement(SqlDialect dialect, const std::string& id) {
  if (dialect != SqlDialect::postgres) return find_chat_statement(id);
  static const std::string sql =
      std::string("SELECT ") + kChatColumns + " FROM chats WHERE id = $1 FOR NO KEY UPDATE";
  return {sql, {id}};
}

Result<std::optional<ChatRecord>> chat_of(const SqlRows& rows) {
  if (rows.rows.empty()) return std::optional<ChatRecord>();
  auto chat = chat_from(first_record(rows));
  if (!chat) return fail(chat.error());
  return std::optional<ChatRecord>(std::move(*chat));
}

Result<std::vector<ChatRecord>> list_chats(SqlTransaction& tx, const std::string& user_id,
                                           std::int64_t limit) {
  auto rows = tx.query(std::string("SELECT ") + kChatColumns +
                           " FROM chats WHERE user_id = $1 ORDER BY updated_at_ms DESC, id DESC "
                           "LIMIT $2",
                       {user_id, limit});
  if (!rows) return fail(rows.error());
  std::vector<ChatRecord> chats;
  for (const SqlRecord& row : records(*rows)) {
    auto chat = chat_from(row);
    if (!chat) return fail(chat.error());
    chats.push_back(std::move(*chat));
  }
  return chats;
}

Result<void> update_chat_status(SqlTransaction& tx, const std::string& chat_id, ChatStatus status,
                                const std::string& run_id, std::int64_t now_ms) {
  auto done = tx.execute(
      "UPDATE chats SET status = $2, workflow_run_id = COALESCE($3, workflow_run_id), "
      "updated_at_ms = $4 WHERE id = $1",
      {chat_id, std::string(to_string(status)),
       run_id.empty() ? SqlValue(nullptr) : SqlValue(run_id), now_ms});
  if (!done) return fail(done.error());
  if (*done == 0) return fail(ErrorCode::not_found, "no chat " + chat_id);
  return {};
}

Result<void> set_session_daemon(SqlTransaction& tx, const std::string& chat_id,
                                const std::optional<std::string>& daemon_id, std::int64_t now_ms) {
  auto done = tx.execute("UPDATE chats SET active_daemon_id = $2, updated_at_ms = $3 WHERE id = $1",
                         {chat_id, nullable(daemon_id), now_ms});
  if (!done) return fail(done.error());
  if (*done == 0) return fail(ErrorCode::not_found, "no chat " + chat_id);
  return {};
}

Result<void> set_chat_title(SqlTransaction& tx, const std::string& chat_id,
                            const std::string& title, std::int64_t now_ms) {
  auto done = tx.execute("UPDATE chats SET title = $2, updated_at_ms = $3 WHERE id = $1",
                         {chat_id, title, now_ms});
  if (!done) return fail(done.error());
  if (*done == 0) return fail(ErrorCode::not_found, "no chat " + chat_id);
  return {};
}

namespace {

// Postgres: the message, its blocks and the chat's touch in one statement (one round trip, not
// three plus one a block), unless a message with its id exists. With `chat_status`, the touch
// sets the chat's status and run too, whether or not the message is new. Returns whether it
// inserted, and whether the chat was there.
//
// The chat's row is locked before the message takes its ordinal: a send holds that lock from its
// first read (lock_chat_statement), and a writer that took the ordinal's index entry first and
// then waited for the chat would deadlock with it. A writer that waited for a send may find its
// ordinal taken and fail with already_exists, as two writers racing for one ordinal always could;
// it is retried as its activity is.
struct NewMessageWritten {
  bool inserted = false;
  bool chat_found = false;
};

Result<NewMessageWritten> insert_new_message_postgres(
    SqlTransaction& tx, MessageRecord& stored, const std::optional<ChatStatusChange>& chat_status) {
  std::vector<std::string> kinds;
  std::vector<std::string> bodies;
  for (const auto& block : stored.blocks) {
    kinds.push_back(block.kind);
    bodies.push_back(block.body.dump());
  }
  std::vector<SqlValue> params{stored.id,
                               stored.chat_id,
                               stored.role,
                               stored.model,
                               stored.input_tokens,
                               stored.output_tokens,
                               stored.created_at_ms,
                               stored.thread,
                               postgres_text_array(kinds),
                               postgres_text_array(bodies)};
  std::string sql =
      "WITH chat AS (SELECT id FROM chats WHERE id = $2 FOR NO KEY UPDATE), "
      "inserted AS (INSERT INTO messages (id, chat_id, ordinal, role, model, input_tokens, "
      "output_tokens, created_at_ms, thread) SELECT $1, $2, (SELECT COALESCE(MAX(ordinal), 0) + 1 "
      "FROM messages WHERE chat_id = $2), $3, $4, CAST($5 AS BIGINT), CAST($6 AS BIGINT), "
      "CAST($7 AS BIGINT), $8 FROM chat ON CONFLICT (id) DO NOTHING RETURNING ordinal), "
      "blocks AS (INSERT INTO content_blocks (id, message_id, ordinal, kind, body_json) "
      "SELECT $1 || '.' || b.n, $1, b.n, b.kind, b.body FROM inserted, "
      "unnest(CAST($9 AS TEXT[]), CAST($10 AS TEXT[])) WITH ORDINALITY AS b(kind, body, n)), ";
  if (chat_status) {
    sql +=
        "touched AS (UPDATE chats SET updated_at_ms = CAST($7 AS BIGINT), status = $11, "
        "workflow_run_id = COALESCE($12, workflow_run_id) WHERE id = $2) ";
    params.emplace_back(std::string(to_string(chat_status->status)));
    params.emplace_back(nullptr);
    if (!chat_status->run_id.empty()) params.back() = chat_status->run_id;
  } else {
    sql +=
        "touched AS (UPDATE chats SET updated_at_ms = CAST($7 AS BIGINT) WHERE id = $2 "
        "AND EXISTS (SELECT 1 FROM inserted)) ";
  }
  sql += "SELECT (SELECT ordinal FROM inserted) AS ordinal, (SELECT COUNT(*) FROM chat) AS chats";
  auto rows = tx.query(sql, params);
  if (!rows) return fail(rows.error());
  const SqlRecord written = first_record(*rows);
  const auto ordinal = written.optional_integer("ordinal");
  if (ordinal) stored.ordinal = *ordinal;
  return NewMessageWritten{ordinal.has_value(), written.integer("chats") > 0};
}

// Elsewhere (SQLite, whose statements cost no round trip): one statement a step.
Result<StoredMessage> insert_message_once_stepwise(SqlTransaction& tx, const MessageRecord& m) {
  auto existing = find_message(tx, m.id);
  if (!existing) return fail(existing.error());
  if (*existing) return StoredMessage{std::move(**existing), false};
  // The chat's touch first: a chat that is not there is not_found, as on Postgres.
  auto touched =
      tx.execute("UPDATE chats SET updated_at_ms = $2 WHERE id = $1", {m.chat_id, m.created_at_ms});
  if (!touched) return fail(touched.error());
  if (*touched == 0) return fail(ErrorCode::not_found, "no chat " + m.chat_id);
  auto next = tx.query(
      "SELECT COALESCE(MAX(ordinal), 0) + 1 AS next_ordinal FROM messages WHERE chat_id = $1",
      {m.chat_id});
  if (!next) return fail(next.error());
  MessageRecord stored = m;
  stored.ordinal = first_record(*next).integer("next_ordinal");
  auto done = tx.execute(
      "INSERT INTO messages (id, chat_id, ordinal, role, model, input_tokens, output_tokens, "
      "created_at_ms, thread) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
      {stored.id, stored.chat_id, stored.ordinal, stored.role, stored.model, stored.input_tokens,
       stored.output_tokens, stored.created_at_ms, stored.thread});
  if (!done) return fail(done.error());
  for (std::size_t i = 0; i < stored.blocks.size(); ++i) {
    auto block = tx.execute(
        "INSERT INTO content_blocks (id, message_id, ordinal, kind, body_json) "
        "VALUES ($1, $2, $3, $4, $5)",
        {stored.id + "." + std::to_string(i + 1), stored.id, static_cast<std::int64_t>(i + 1),
         stored.blocks[i].kind, stored.blocks[i].body.dump()});
    if (!block) return fail(block.error());
  }
  return StoredMessage{std::move(stored), true};
}

}  // namespace

Result<StoredMessage> insert_message_once(SqlTransaction& tx, SqlDialect dialect,
                                          const MessageRecord& m,
                                          const std::optional<ChatStatusChange>& chat_status) {
  if (dialect != SqlDialect::postgres) {
    auto stored = insert_message_once_stepwise(tx, m);
    if (!stored || !chat_status) return stored;
    if (auto ok = update_chat_status(tx, m.chat_id, chat_status->status, chat_status->run_id,
                                     m.created_at_ms);
        !ok)
      return fail(ok.error());
    return stored;
  }
  MessageRecord stored = m;
  auto written = insert_new_message_postgres(tx, stored, chat_status);
  if (!written) return fail(written.error());
  if (!written->chat_found) return fail(ErrorCode::not_found, "no chat " + m.chat_id);
  if (written->inserted) return StoredMessage{std::move(stored), true};
  auto existing = find_message(tx, m.id);
  if (!existing) return fail(existing.error());
  if (!*existing) return fail(ErrorCode::internal, "message " + m.id + " vanished");
  return StoredMessage{std::move(**existing), false};
}

SqlStatement next_ordinal_statement(const std::string& chat_id) {
  static const std::string sql =
      "SELECT COALESCE(MAX(ordinal), 0) + 1 AS next_ordinal FROM messages WHERE chat_id = $1";
  return {sql, {chat_id}};
}

std::int64_t next_ordinal_of(const SqlRows& rows) {
  return first_record(rows).integer("next_ordinal");
}

Result<void> insert_new_message(SqlTransaction& tx, SqlDialect dialect, const MessageRecord& m,
                                const ChatStatusChange& chat_status) {
  RELIANT_ASSERT(m.ordinal > 0);
  if (dialect != SqlDialect::postgres) {
    auto stored = insert_message_once(tx, dialect, m, chat_status);
    if (!stored) return fail(stored.error());
    if (stored->inserted && stored->message.ordinal == m.ordinal) return {};
    return fail(ErrorCode::internal, "message " + m.id + " is not new, or took ordinal " +
                                         std::to_string(stored->message.ordinal) + ", not " +
                                         std::to_string(m.ordinal));
  }
  // The ordinal as read, not MAX + 1 again: should it be taken after all (or the id), the unique
  // keys fail the statement and the transaction with it, on the server, so the COMMIT can go
  // with it (a check of its rows here would hold the COMMIT back a round trip).
  static const std::string sql =
      "WITH inserted AS (INSERT INTO messages (id, chat_id, ordinal, role, model, input_tokens, "
      "output_tokens, created_at_ms, thread) VALUES ($1, $2, CAST($3 AS BIGINT), $4, $5, "
      "CAST($6 AS BIGINT), CAST($7 AS BIGINT), CAST($8 AS BIGINT), $9) RETURNING id), "
      "blocks AS (INSERT INTO content_blocks (id, message_id, ordinal, kind, body_json) "
      "SELECT $1 || '.' || b.n, $1, b.n, b.kind, b.body FROM inserted, "
      "unnest(CAST($10 AS TEXT[]), CAST($11 AS TEXT[])) WITH ORDINALITY AS b(kind, body, n)) "
      "UPDATE chats SET updated_at_ms = CAST($8 AS BIGINT), status = $12, "
      "workflow_run_id = COALESCE($13, workflow_run_id) WHERE id = $2";
  std::vector<std::string> kinds;
  std::vector<std::string> bodies;
  for (const auto& block : m.blocks) {
    kinds.push_back(block.kind);
    bodies.push_back(block.body.dump());
  }
  return tx.defer(
      sql, {m.id, m.chat_id, m.ordinal, m.role, m.model, m.input_tokens, m.output_tokens,
            m.created_at_ms, m.thread, postgres_text_array(kinds), postgres_text_array(bodies),
            std::string(to_string(chat_status.status)),
            chat_status.run_id.empty() ? SqlValue(nullptr) : SqlValue(chat_status.run_id)});
}

Result<std::optional<MessageRecord>> find_message(SqlTransaction& tx, const std::string& id) {
  auto rows =
      tx.query(std::string("SELECT ") + kMessageColumns + " FROM messages WHERE id = $1", {id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<MessageRecord>();
  MessageRecord message = message_from(first_record(*rows));
  if (auto ok = load_blocks(tx, message); !ok) return fail(ok.error());
  return std::optional<MessageRecord>(std::move(message));
}

Result<std::vector<MessageRecord>> load_messages(SqlTransaction& tx, const std::string& chat_id) {
  return load_thread_messages(tx, chat_id, "");
}

Result<std::vector<MessageRecord>> load_thread_messages(SqlTransaction& tx,
                                                        const std::string& chat_id,
                                                        const std::string& thread,
                                                        std::optional<std::int64_t> through_ordinal,
                                                        std::int64_t after_ordinal) {
  const SqlStatement statement =
      thread_messages_statement(chat_id, thread, through_ordinal, after_ordinal);
  auto rows = tx.query(statement.sql, statement.params);
  if (!rows) return fail(rows.error());
  return thread_messages_from(*rows);
}

SqlStatement thread_messages_statement(const std::string& chat_id, const std::string& thread,
                                       std::optional<std::int64_t> through_ordinal,
                                       std::int64_t after_ordinal) {
  // Messages and their blocks in one query (a conversation of thousands of messages would
  // otherwise cost a query per message on every model turn).
  return {
      "SELECT m.id, m.chat_id, m.thread, m.ordinal, m.role, m.model, m.input_tokens, "
      "m.output_tokens, m.created_at_ms, b.kind, b.body_json FROM messages m "
      "LEFT JOIN content_blocks b ON b.message_id = m.id "
      "WHERE m.chat_id = $1 AND m.thread = $2 AND m.ordinal <= $3 AND m.ordinal > $4 "
      "ORDER BY m.ordinal, b.ordinal",
      {chat_id, thread, through_ordinal.value_or(std::numeric_limits<std::int64_t>::max()),
       after_ordinal}};
}

std::vector<MessageRecord> thread_messages_from(const SqlRows& rows) {
  std::vector<MessageRecord> messages;
  for (const SqlRecord& row : records(rows)) {
    if (messages.empty() || messages.back().id != row.text("id")) {
      messages.push_back(message_from(row));
    }
    auto kind = row.optional_text("kind");
    if (!kind) continue;  // a message without blocks
    auto body = parse_json_or_discarded(row.text("body_json"), kStoredJsonDepthMax);
    messages.back().blocks.push_back({*kind, body.is_discarded() ? nlohmann::json() : body});
  }
  return messages;
}

Result<MessagePage> load_message_page(SqlTransaction& tx, const std::string& chat_id,
                                      const MessagePageQuery& query) {
  RELIANT_ASSERT(query.limit > 0);
  RELIANT_ASSERT(query.after_ordinal >= 0);
  const bool backwards = query.before_ordinal.has_value();
  // One row more than the page holds says whether there is more.
  auto rows =
      backwards ? tx.query(std::string("SELECT ") + kMessageColumns +
                               " FROM messages WHERE chat_id = $1 AND thread = '' AND ordinal < $2 "
                               "ORDER BY ordinal DESC LIMIT $3",
                           {chat_id, *query.before_ordinal, query.limit + 1})
                : tx.query(std::string("SELECT ") + kMessageColumns +
                               " FROM messages WHERE chat_id = $1 AND thread = '' AND ordinal > $2 "
                               "ORDER BY ordinal LIMIT $3",
                           {chat_id, query.after_ordinal, query.limit + 1});
  if (!rows) return fail(rows.error());
  MessagePage page;
  std::size_t bytes = 0;
  // Walked from the cursor outwards: the page is what lies nearest to it.
  for (const SqlRecord& row : records(*rows)) {
    if (static_cast<std::int64_t>(page.messages.size()) == query.limit ||
        (!page.messages.empty() && bytes >= query.bytes_max)) {
      page.has_more = true;
      break;
    }
    MessageRecord message = message_from(row);
    if (auto ok = load_blocks(tx, message, &bytes); !ok) return fail(ok.error());
    page.messages.push_back(std::move(message));
  }
  if (backwards) std::reverse(page.messages.begin(), page.messages.end());
  return page;
}

nlohmann::json to_json(const ChatRecord& c) {
  return {{"id", c.id},
          {"title", c.title},
          {"status", c.status},
          {"workflow_run_id", c.workflow_run_id},
          {"active_daemon_id", c.active_daemon_id},
          {"project_id", c.project_id},
          {"workflow", c.workflow},
          {"workflow_inputs", c.workflow_inputs},
          {"presets", c.presets},
          {"created_at_ms", c.created_at_ms},
          {"updated_at_ms", c.updated_at_ms}};
}

nlohmann::json to_json(const MessageRecord& m) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const auto& block : m.blocks) blocks.push_back({{"kind", block.kind}, {"body", block.body}});
  return {{"id", m.id},
          {"chat_id", m.chat_id},
          {"thread", m.thread},
          {"ordinal", m.ordinal},
          {"role", m.role},
          {"model", m.model},
          {"input_tokens", m.input_tokens},
          {"output_tokens", m.output_tokens},
          {"created_at_ms", m.created_at_ms},
          {"content", blocks}};
}

}  // namespace reliant
