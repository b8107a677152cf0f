// User update log: append under the user's head row, read by number, announce as UserUpdates.
#include "services/updates/user_events.h"

#include "base/assert.h"
#include "base/json_parse.h"
#include "protocol/codec.h"
#include "reliant/api/v1/updates.pb.h"
#include "services/storage/sql_row.h"

namespace reliant::updates {

std::string user_subject(const std::string& user_id) { return "updates.user." + user_id; }

Result<void> append_user_events(SqlTransaction& tx, SqlDialect dialect,
                                std::vector<UserEvent>& events) {
  // The upsert takes the head row's lock until commit: concurrent appends for one user queue
  // behind it (Postgres row lock; SQLite has a single writer anyway). On Postgres each event is
  // one statement (one round trip), the head's bump and the row together.
  for (UserEvent& event : events) {
    RELIANT_ASSERT_MSG(event.seq == 0, "an update is numbered when it is stored");
    const SqlValue chat_id = event.chat_id.empty() ? SqlValue(nullptr) : SqlValue(event.chat_id);
    if (dialect == SqlDialect::postgres) {
      auto stored = tx.query(
          "WITH head AS (INSERT INTO user_event_heads (user_id, last_seq) VALUES ($1, 1) "
          "ON CONFLICT (user_id) DO UPDATE SET last_seq = user_event_heads.last_seq + 1 "
          "RETURNING last_seq) "
          "INSERT INTO user_events (user_id, seq, kind, chat_id, body_json, created_at_ms) "
          "SELECT $1, last_seq, $2, $3, $4, CAST($5 AS BIGINT) FROM head RETURNING seq",
          {event.user_id, event.kind, chat_id, event.body.dump(), event.created_at_ms});
      if (!stored) return fail(stored.error());
      event.seq = first_record(*stored).integer("seq");
      continue;
    }
    auto head = tx.query(
        "INSERT INTO user_event_heads (user_id, last_seq) VALUES ($1, 1) "
        "ON CONFLICT (user_id) DO UPDATE SET last_seq = user_event_heads.last_seq + 1 "
        "RETURNING last_seq",
        {event.user_id});
    if (!head) return fail(head.error());
    event.seq = first_record(*head).integer("last_seq");
    auto done = tx.execute(
        "INSERT INTO user_events (user_id, seq, kind, chat_id, body_json, created_at_ms) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        {event.user_id, event.seq, event.kind, chat_id, event.body.dump(), event.created_at_ms});
    if (!done) return fail(done.error());
  }
  return {};
}

Result<std::vector<UserEvent>> read_user_events(SqlTransaction& tx, const std::string& user_id,
                                                std::int64_t since_seq, std::int64_t limit,
                                                const std::string& chat_id) {
  std::string sql =
      "SELECT seq, kind, chat_id, body_json, created_at_ms FROM user_events "
      "WHERE user_id = $1 AND seq > $2";
  std::vector<SqlValue> params{user_id, since_seq, limit};
  if (!chat_id.empty()) {
    sql += " AND chat_id = $4";
    params.push_back(chat_id);
  }
  sql += " ORDER BY seq LIMIT $3";
  auto rows = tx.query(sql, params);
  if (!rows) return fail(rows.error());
  std::vector<UserEvent> events;
  for (const SqlRecord& row : records(*rows)) {
    UserEvent event;
    event.user_id = user_id;
    event.seq = row.integer("seq");
    event.kind = row.text("kind");
    event.chat_id = row.text_or_empty("chat_id");
    auto body = parse_json_or_discarded(row.text("body_json"), kStoredJsonDepthMax);
    event.body = body.is_discarded() ? nlohmann::json::object() : std::move(body);
    event.created_at_ms = row.integer("created_at_ms");
    events.push_back(std::move(event));
  }
  return events;
}

Result<std::int64_t> user_event_head(SqlTransaction& tx, const std::string& user_id) {
  auto rows = tx.query("SELECT last_seq FROM user_event_heads WHERE user_id = $1", {user_id});
  if (!rows) return fail(rows.error());
  return rows->rows.empty() ? std::int64_t{0} : first_record(*rows).integer("last_seq");
}

void announce(Bus& bus, const std::vector<UserEvent>& events) {
  if (events.empty()) return;
  api::v1::UserUpdates message;
  for (const auto& event : events) to_proto(event, *message.add_updates());
  // Best effort by design: a lost announcement is read back from the store.
  (void)bus.publish(user_subject(events.front().user_id), protocol::to_json(message));
}

Result<std::vector<UserEvent>> decode_announcement(std::string_view payload) {
  auto message = protocol::from_json<api::v1::UserUpdates>(payload);
  if (!message) return fail(message.error());
  std::vector<UserEvent> events;
  for (const auto& update : message->updates()) {
    // The bodies the update log stores, so read with the bound for stored documents.
    auto body = parse_json(update.body_json(), kStoredJsonDepthMax);
    if (!body) {
      return fail(ErrorCode::invalid_argument,
                  "update " + std::to_string(update.seq()) +
                      ": body_json is not JSON: " + body.error().message);
    }
    events.push_back({update.user_id(), update.seq(), update.kind(), update.chat_id(),
                      std::move(*body), update.created_at_ms()});
  }
  return events;
}

nlohmann::json to_json(const UserEvent& event) {
  return {{"seq", event.seq},
          {"kind", event.kind},
          {"chat_id", event.chat_id},
          {"body", event.body},
          {"created_at_ms", event.created_at_ms}};
}

void to_proto(const UserEvent& event, api::v1::UserUpdate& out) {
  out.set_user_id(event.user_id);
  out.set_seq(event.seq);
  out.set_kind(event.kind);
  out.set_chat_id(event.chat_id);
  out.set_body_json(event.body.dump());
  out.set_created_at_ms(event.created_at_ms);
}

}  // namespace reliant::updates
