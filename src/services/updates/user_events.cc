// User update log: append under the user's head row, read by number, announce as UserUpdates.
#include "services/updates/user_events.h"

#include <algorithm>
#include <span>

#include "base/assert.h"
#include "base/json_parse.h"
#include "protocol/codec.h"
#include "reliant/api/v1/updates.pb.h"
#include "services/storage/sql_row.h"

namespace reliant::updates {

std::string user_subject(const std::string& user_id) { return "updates.user." + user_id; }

namespace {

// Every kPruneEveryEvents numbers a user's append also deletes the oldest of the user's events
// older than kUserEventsKeptMs, at most kPrunedPerAppendMax of them: the log would otherwise keep
// four or five rows a message for ever. What goes is always a prefix of the user's numbers (up to
// the first one still young), so the oldest number kept says what a resuming reader missed.
constexpr std::int64_t kPruneEveryEvents = 256;
constexpr std::int64_t kPrunedPerAppendMax = 4 * kPruneEveryEvents;

// The prefix to delete: the user's numbers below the first one created at or after the cutoff
// among the kPrunedPerAppendMax oldest (all of these when none is). $1 is the user, `cutoff` the
// parameter that holds the cutoff.
std::string pruned_prefix_bound(std::string_view cutoff) {
  return "(SELECT COALESCE(MIN(w.seq) FILTER (WHERE w.created_at_ms >= CAST(" +
         std::string(cutoff) +
         " AS BIGINT)), MAX(w.seq) + 1) FROM (SELECT seq, created_at_ms FROM user_events WHERE "
         "user_id = $1 ORDER BY seq LIMIT " +
         std::to_string(kPrunedPerAppendMax) + ") w)";
}

// The cutoff for a batch of events: kUserEventsKeptMs before the latest of them.
std::int64_t prune_cutoff_ms(std::span<const UserEvent> events) {
  std::int64_t latest_ms = 0;
  for (const UserEvent& event : events) latest_ms = std::max(latest_ms, event.created_at_ms);
  return latest_ms - kUserEventsKeptMs;
}

// Postgres: `events` (one user's, in order) in one statement, the head's bump by their count,
// their rows and, when the bump crosses a multiple of kPruneEveryEvents, the pruning together;
// `ends`: the transaction's last statement. The pruning's DELETE does not see the rows the same
// statement inserts, so a user's newest events always stay.
Result<void> append_postgres(SqlTransaction& tx, std::span<UserEvent> events, bool ends) {
  std::vector<std::string> kinds, chat_ids, bodies, times;
  for (const UserEvent& event : events) {
    kinds.push_back(event.kind);
    chat_ids.push_back(event.chat_id);
    bodies.push_back(event.body.dump());
    times.push_back(std::to_string(event.created_at_ms));
  }
  const auto count = static_cast<std::int64_t>(events.size());
  static const std::string sql =
      "WITH head AS (INSERT INTO user_event_heads (user_id, last_seq) VALUES ($1, $2) "
      "ON CONFLICT (user_id) DO UPDATE SET last_seq = user_event_heads.last_seq + $2 "
      "RETURNING last_seq), "
      "pruned AS (DELETE FROM user_events WHERE user_id = $1 AND EXISTS (SELECT 1 FROM head "
      "WHERE head.last_seq / " +
      std::to_string(kPruneEveryEvents) + " <> (head.last_seq - CAST($2 AS BIGINT)) / " +
      std::to_string(kPruneEveryEvents) + ") AND seq < " + pruned_prefix_bound("$7") +
      ") "
      "INSERT INTO user_events (user_id, seq, kind, chat_id, body_json, created_at_ms) "
      "SELECT $1, head.last_seq - CAST($2 AS BIGINT) + e.n, e.kind, NULLIF(e.chat_id, ''), "
      "e.body, CAST(e.at AS BIGINT) FROM head, unnest(CAST($3 AS TEXT[]), CAST($4 AS TEXT[]), "
      "CAST($5 AS TEXT[]), CAST($6 AS TEXT[])) WITH ORDINALITY AS e(kind, chat_id, body, at, n) "
      "RETURNING seq";
  const std::vector<SqlValue> params{events.front().user_id,      count,
                                     postgres_text_array(kinds),  postgres_text_array(chat_ids),
                                     postgres_text_array(bodies), postgres_text_array(times),
                                     prune_cutoff_ms(events)};
  auto stored = ends ? tx.query_last(sql, params) : tx.query(sql, params);
  if (!stored) return fail(stored.error());
  std::int64_t last = 0;
  for (const SqlRecord& row : records(*stored)) last = std::max(last, row.integer("seq"));
  RELIANT_ASSERT(static_cast<std::int64_t>(stored->rows.size()) == count);
  for (std::int64_t i = 0; i < count; ++i) events[i].seq = last - count + 1 + i;
  return {};
}

// SQLite: one event a statement pair (no round trips to save), then the pruning when the user's
// numbers crossed a multiple of kPruneEveryEvents.
Result<void> append_sqlite(SqlTransaction& tx, std::span<UserEvent> events) {
  for (UserEvent& event : events) {
    const SqlValue chat_id = event.chat_id.empty() ? SqlValue(nullptr) : SqlValue(event.chat_id);
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
  const std::int64_t last = events.back().seq;
  const auto count = static_cast<std::int64_t>(events.size());
  if (last / kPruneEveryEvents == (last - count) / kPruneEveryEvents) return {};
  static const std::string prune =
      "DELETE FROM user_events WHERE user_id = $1 AND seq < " + pruned_prefix_bound("$2");
  auto pruned = tx.execute(prune, {events.front().user_id, prune_cutoff_ms(events)});
  if (!pruned) return fail(pruned.error());
  return {};
}

}  // namespace

Result<void> append_user_events(SqlTransaction& tx, SqlDialect dialect,
                                std::vector<UserEvent>& events) {
  // The upsert takes the head row's lock until commit: concurrent appends for one user queue
  // behind it (Postgres row lock; SQLite has a single writer anyway). On Postgres each user's
  // run of events is one statement (one round trip), the head's bump and the rows together.
  for (const UserEvent& event : events) {
    RELIANT_ASSERT_MSG(event.seq == 0, "an update is numbered when it is stored");
  }
  // One user's run of events at a time (on Postgres, one statement each).
  for (std::size_t first = 0; first < events.size();) {
    std::size_t end = first + 1;
    while (end < events.size() && events[end].user_id == events[first].user_id) ++end;
    const auto run = std::span(events).subspan(first, end - first);
    if (auto ok = dialect == SqlDialect::postgres ? append_postgres(tx, run, end == events.size())
                                                  : append_sqlite(tx, run);
        !ok)
      return ok;
    first = end;
  }
  return {};
}

namespace {

// The events of a transaction's bodies, appended together before its commit.
using EventLists = std::vector<std::shared_ptr<std::vector<UserEvent>>>;
constexpr char kEventListsKey = 0;

// Appends every list's events in one go, grouped by user in the order of the users' ids (two
// batches lock the heads of their users in the same order), and numbers them in place.
Result<void> append_lists(SqlTransaction& tx, SqlDialect dialect, const EventLists& lists) {
  std::vector<UserEvent*> order;
  for (const auto& list : lists) {
    for (UserEvent& event : *list) order.push_back(&event);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const UserEvent* a, const UserEvent* b) { return a->user_id < b->user_id; });
  std::vector<UserEvent> all;
  all.reserve(order.size());
  for (UserEvent* event : order) all.push_back(std::move(*event));
  Result<void> stored = append_user_events(tx, dialect, all);
  for (std::size_t i = 0; i < order.size(); ++i) *order[i] = std::move(all[i]);
  return stored;
}

}  // namespace

void append_before_commit(SqlTransaction& tx, SqlDialect dialect,
                          std::shared_ptr<std::vector<UserEvent>> events) {
  std::shared_ptr<void>& kept = tx.kept_for_steps(&kEventListsKey);
  if (kept == nullptr) {
    auto lists = std::make_shared<EventLists>();
    kept = lists;
    tx.before_commit(
        [dialect, lists](SqlTransaction& end) { return append_lists(end, dialect, *lists); });
  }
  std::static_pointer_cast<EventLists>(kept)->push_back(std::move(events));
}

namespace {

UserEvent stored_event(const SqlRecord& row, const std::string& user_id) {
  UserEvent event;
  event.user_id = user_id;
  event.seq = row.integer("seq");
  event.kind = row.text("kind");
  event.chat_id = row.text_or_empty("chat_id");
  auto body = parse_json_or_discarded(row.text("body_json"), kStoredJsonDepthMax);
  event.body = body.is_discarded() ? nlohmann::json::object() : std::move(body);
  event.created_at_ms = row.integer("created_at_ms");
  return event;
}

}  // namespace

Result<std::vector<UserEvent>> read_user_events(SqlTransaction& tx, const std::string& user_id,
                                                std::int64_t since_seq, std::int64_t limit) {
  auto rows = tx.query(
      "SELECT seq, kind, chat_id, body_json, created_at_ms FROM user_events "
      "WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
      {user_id, since_seq, limit});
  if (!rows) return fail(rows.error());
  std::vector<UserEvent> events;
  for (const SqlRecord& row : records(*rows)) events.push_back(stored_event(row, user_id));
  return events;
}

Result<EventsPage> read_events_page(SqlTransaction& tx, const std::string& user_id,
                                    const std::string& chat_id, std::int64_t since_seq,
                                    std::int64_t limit) {
  RELIANT_ASSERT(limit > 0);
  // One statement, so the page, the user's head and the oldest number kept come from one
  // snapshot: every event up to that head had committed (numbers are taken under the head row's
  // lock and commit with it), and what was pruned is a prefix of the numbers.
  static const std::string head_and_floor =
      "SELECT h.last_seq AS head, (SELECT MIN(seq) FROM user_events WHERE user_id = $1) AS floor, "
      "e.seq, e.kind, e.chat_id, e.body_json, e.created_at_ms FROM user_event_heads h LEFT JOIN "
      "(SELECT seq, kind, chat_id, body_json, created_at_ms FROM user_events WHERE user_id = $1 ";
  static const std::string of_chat =
      head_and_floor +
      "AND chat_id = $4 AND seq > $2 ORDER BY seq LIMIT $3) e ON 1 = 1 WHERE h.user_id = $1 "
      "ORDER BY e.seq";
  static const std::string of_user =
      head_and_floor +
      "AND seq > $2 ORDER BY seq LIMIT $3) e ON 1 = 1 WHERE h.user_id = $1 ORDER BY e.seq";
  std::vector<SqlValue> params{user_id, since_seq, limit};
  if (!chat_id.empty()) params.emplace_back(chat_id);
  auto rows = tx.query(chat_id.empty() ? of_user : of_chat, params);
  if (!rows) return fail(rows.error());
  EventsPage page;
  page.covered_seq = since_seq;
  // No head row: the user has no update yet, and any number is ahead.
  if (rows->rows.empty() && since_seq > 0) return EventsPage{{}, since_seq, false, true};
  for (const SqlRecord& row : records(*rows)) {
    const std::int64_t head = row.integer("head");
    // A number this store never gave (from another server's data, or made up): waiting for it
    // would hold back every update up to it without a word.
    if (since_seq > head) return EventsPage{{}, since_seq, false, true};
    // The event after since_seq was pruned: the reader missed it (a prefix went, so a number
    // below the oldest kept is one that was deleted).
    if (since_seq < head && since_seq + 1 < row.optional_integer("floor").value_or(head + 1)) {
      return EventsPage{{}, since_seq, true};
    }
    page.covered_seq = std::max(page.covered_seq, head);
    if (row.optional_integer("seq")) page.events.push_back(stored_event(row, user_id));
  }
  // A full page: what lies past its last event is still to read.
  if (static_cast<std::int64_t>(page.events.size()) >= limit) {
    page.covered_seq = page.events.back().seq;
  }
  return page;
}

Result<std::int64_t> user_event_head(SqlTransaction& tx, const std::string& user_id) {
  auto rows = tx.query("SELECT last_seq FROM user_event_heads WHERE user_id = $1", {user_id});
  if (!rows) return fail(rows.error());
  return rows->rows.empty() ? std::int64_t{0} : first_record(*rows).integer("last_seq");
}

void announce(Bus& bus, const std::vector<UserEvent>& events) {
  if (events.empty()) return;
  api::v1::UserUpdates message;
  for (const auto& event : events) {
    RELIANT_ASSERT_MSG(event.user_id == events.front().user_id,
                       "an announcement goes on one user's subject");
    to_proto(event, *message.add_updates());
  }
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
