// The user update log (spec S3.2's streaming layer): every update a user can see is appended in
// the same transaction as the change it describes, numbered per user without gaps; after the
// commit it is announced on updates.user.<user_id>. The store is the truth and the bus only
// delivers, so a reader that misses an announcement (bus loss, another api replica, a client
// resuming later) reads the gap back from the store.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/bus.h"
#include "runtime/store.h"
#include "runtime/task.h"

namespace reliant::api::v1 {
class UserUpdate;
}  // namespace reliant::api::v1

namespace reliant::updates {

struct UserEvent {
  std::string user_id;
  std::int64_t seq = 0;  // 0: a preview, never stored
  std::string kind;
  std::string chat_id;
  nlohmann::json body = nlohmann::json::object();
  std::int64_t created_at_ms = 0;
};

std::string user_subject(const std::string& user_id);

// Numbers `events` (each with seq 0 on entry) and stores them. Two transactions appending for
// one user serialize on the user's head row until they commit, so numbers commit in order and a
// reader never sees a gap that will later fill. Hence commit_and_announce calls this last in its
// transaction: the lock is then held for these statements and the commit only. Its last
// statement is the transaction's (SqlTransaction::query_last): on Postgres the COMMIT goes with
// it, and the head is held for no round trip after it.
Result<void> append_user_events(SqlTransaction& tx, SqlDialect dialect,
                                std::vector<UserEvent>& events);
// Events after `since_seq`, oldest first, at most `limit`.
Result<std::vector<UserEvent>> read_user_events(SqlTransaction& tx, const std::string& user_id,
                                                std::int64_t since_seq, std::int64_t limit);
// How long a user's updates are kept for readers that resume: older ones are deleted as the
// user's log grows (append_user_events prunes a prefix of the numbers now and then), and a reader
// resuming from before the oldest kept is told so (EventsPage::gone) and must start again from
// the user's head, with the state it shows read afresh.
constexpr std::int64_t kUserEventsKeptMs = 7LL * 24 * 60 * 60 * 1000;

// A page of a user's events, or of one chat's, and the last number it accounts for: each of the
// user's events after the page's `since_seq` up to `covered_seq` is in the page or belongs to
// another chat. `gone`: some of the user's events after `since_seq` were pruned (the page is
// empty).
struct EventsPage {
  std::vector<UserEvent> events;
  std::int64_t covered_seq = 0;
  bool gone = false;   // the event after since_seq was pruned
  bool ahead = false;  // since_seq is past the user's head: no number this store gave
};
// The user's events after `since_seq` — chat `chat_id`'s alone when it is not empty, by the
// chat's index, so a chat's stream catches up without reading its user's other chats — oldest
// first, at most `limit`.
Result<EventsPage> read_events_page(SqlTransaction& tx, const std::string& user_id,
                                    const std::string& chat_id, std::int64_t since_seq,
                                    std::int64_t limit);
// The user's latest number (0 before any event).
Result<std::int64_t> user_event_head(SqlTransaction& tx, const std::string& user_id);

// Numbers and stores `events` last in the transaction — in a group commit, after the batch's
// other bodies, together with theirs: one statement a user for the whole batch, so the user's
// head row is locked once, for that statement and the commit.
void append_before_commit(SqlTransaction& tx, SqlDialect dialect,
                          std::shared_ptr<std::vector<UserEvent>> events);

// `body` as a transaction body that records updates, returning what `body` returned (a
// Result<T>): each run of it starts with `events` empty (a retried or group-commit-rerun body
// keeps nothing of a rolled-back run), and when `body` succeeds the updates it added are
// numbered and stored last (append_user_events).
template <class R>
std::function<R(SqlTransaction&)> recording_updates(
    std::function<R(SqlTransaction&, std::vector<UserEvent>&)> body, SqlDialect dialect,
    std::shared_ptr<std::vector<UserEvent>> events) {
  return [body = std::move(body), dialect, events = std::move(events)](SqlTransaction& tx) -> R {
    events->clear();
    R written = body(tx, *events);
    if (!written) return written;
    append_before_commit(tx, dialect, events);
    return written;
  };
}

// Runs `body(tx, events)` in one transaction and returns what it returned: a Result<T>.
// `body` adds the updates it records to `events`, unnumbered (seq 0); when it succeeds they are
// numbered and stored at the end of the same transaction (append_user_events), and once it has
// committed they are announced on `bus` (none: the store alone has them) and copied to
// `committed` (when given: the caller's, alive until the task ends). A body the store runs more
// than once (a retry, a group-commit rerun) starts each run with no events, so only the
// committed run's are announced:
//
//   Task<Result<void>> writing = updates::commit_and_announce(
//       store, bus, [chat](SqlTransaction& tx, std::vector<UserEvent>& events) { ... });
//   Result<void> written = co_await writing;
template <class Body>
auto commit_and_announce(Store& store, Bus* bus, Body body,
                         std::vector<UserEvent>* committed = nullptr)
    -> Task<std::invoke_result_t<Body&, SqlTransaction&, std::vector<UserEvent>&>>;

// Announces committed events (all of one user, asserted) — or a preview — on the bus, as one
// message. Loss is fine.
void announce(Bus& bus, const std::vector<UserEvent>& events);
// Decodes an announcement; malformed bytes give an error, never a crash.
Result<std::vector<UserEvent>> decode_announcement(std::string_view payload);

nlohmann::json to_json(const UserEvent& event);
// The wire form, as bus announcements and the gRPC update stream carry it.
void to_proto(const UserEvent& event, api::v1::UserUpdate& out);

namespace detail {
template <class R>
Task<R> commit_and_announce_returning(
    Store& store, Bus* bus, std::function<R(SqlTransaction&, std::vector<UserEvent>&)> body,
    std::vector<UserEvent>* committed) {
  // Shared with the transaction body, which the store may run after this frame has suspended.
  auto events = std::make_shared<std::vector<UserEvent>>();
  Task<R> writing =
      store.transact_for(recording_updates<R>(std::move(body), store.dialect(), events));
  R written = co_await writing;
  if (!written) co_return written;
  if (bus) announce(*bus, *events);
  if (committed) *committed = std::move(*events);
  co_return written;
}
}  // namespace detail

template <class Body>
auto commit_and_announce(Store& store, Bus* bus, Body body, std::vector<UserEvent>* committed)
    -> Task<std::invoke_result_t<Body&, SqlTransaction&, std::vector<UserEvent>&>> {
  using R = std::invoke_result_t<Body&, SqlTransaction&, std::vector<UserEvent>&>;
  return detail::commit_and_announce_returning<R>(
      store, bus, std::function<R(SqlTransaction&, std::vector<UserEvent>&)>(std::move(body)),
      committed);
}

}  // namespace reliant::updates
