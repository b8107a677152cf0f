// UserFeed: one client's view of its updates — every stored event after `since_seq`, in order,
// with no gap and no duplicate, plus live previews. It listens on the bus for announcements
// and reads the store whenever one shows it is behind (or the poll fires, in case the bus lost
// one), so it works the same in the monolith (in-process bus) and on any api replica (NATS).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/env.h"
#include "runtime/future.h"
#include "services/updates/update_budget.h"
#include "services/updates/user_announcements.h"
#include "services/updates/user_events.h"

namespace reliant::updates {

struct FeedOptions {
  std::string user_id;
  std::int64_t since_seq = 0;
  std::string chat_id;   // non-empty: only this chat's updates
  bool previews = true;  // text deltas and tool progress (seq 0)
  Duration poll_interval = seconds(1);
  std::int64_t batch = 500;
  // Announced updates wait here while the client reads slowly (its stream is not written to).
  // Past this many bytes the feed gives up on it: next() fails with resource_exhausted and the
  // stream ends; the client resumes from its last number (since_seq, Last-Event-ID) and reads
  // the rest from the store at its own pace.
  std::size_t queued_bytes_max = 8u << 20;
  // Announcements of different writers cross on the bus: one that arrives ahead of a missing
  // number waits this long for it before the store is read for the gap.
  Duration gap_wait = milliseconds(50);
  std::size_t early_max = 64;  // announced updates held ahead of a gap, at most
  // What all the server's streams hold together (null: no bound beyond queued_bytes_max). The
  // feed counts what it queues and what its stream holds (holding()); asked to give up, it ends
  // as after an overflow.
  // Shared: a stream may outlive the server that opened it (it ends with its connection).
  std::shared_ptr<UpdateBudget> budget = nullptr;
  // Where the feed hears announcements: shared by a server's streams, so each crosses the bus
  // and is decoded once per process (null: a bus subscription of the feed's own).
  std::shared_ptr<UserAnnouncements> announcements = nullptr;
};

class UserFeed final : private UpdateBudget::Holder {
 public:
  // `env` must carry a bus and a store.
  static Result<std::unique_ptr<UserFeed>> open(Env& env, FeedOptions options);
  ~UserFeed();

  // The next updates, waiting until there are some or `wait_max` passes (then none). Fails
  // with resource_exhausted once the client fell too far behind (the stream should end; the
  // feed is done); with failed_precondition once events it had still to read were pruned
  // (kUserEventsKeptMs: the client must read the state afresh and follow from the user's head;
  // the feed is done); otherwise only when the store fails (the caller may call again).
  Task<Result<std::vector<UserEvent>>> next(Duration wait_max = hours(24 * 365));
  // Makes a next() that waits return at once with no updates (its owner has something else to
  // attend to, e.g. the credential of its stream was revoked).
  void interrupt();
  // What the caller still holds of what next() returned (a batch it writes out in pieces),
  // counted against the budget until the next call of next(), or of holding().
  void holding(std::size_t bytes);
  // Whether the feed is done because its client fell behind or the budget asked it to give up:
  // the caller should stop writing what it holds and end the stream.
  bool overflowed() const { return overflowed_; }
  // Whether the feed is done because what it had still to read was pruned (next() said so).
  bool gone() const { return gone_.has_value(); }
  // The caller wrote the last batch's events up to stored number `seq` (a batch goes out in
  // pieces): a stream that ends before the rest tells its client to resume there, not past
  // what it never wrote.
  void delivered(std::int64_t seq) { resume_seq_ = std::max(resume_seq_, seq); }
  // The highest stored number delivered (or skipped as another chat's) so far.
  std::int64_t position() const { return position_; }
  // The calls to next() that read the store (the rest were served by announcements).
  std::uint64_t store_reads() const { return store_reads_; }

 private:
  UserFeed(Env& env, FeedOptions options);
  // Why the feed is done, and where its client resumes.
  Error overflow_error() const;
  void give_up() override;
  // Drops everything queued, for good: next() fails from now on.
  void overflow();
  // The same, because what the feed had still to read was pruned, or because it was to follow
  // from a number past the user's head (`ahead`); gone_ says which.
  void end_gone(bool ahead = false);
  void report_held();
  void on_announcement(const Announcement& announcement);
  bool wanted(const UserEvent& event) const;
  // What the feed keeps of an announced event: all of it when wanted, else what moves the tail.
  UserEvent kept(const UserEvent& event) const;
  // Takes `event`, the next number after tail_, then whatever waited for it in early_.
  void take_next(UserEvent event);
  // Drops what waits in early_ up to tail_, then takes what continues tail_.
  void take_waiting();
  // Moves the tail on to `seq`: the events up to it that were not taken are of other chats.
  void skip_to(std::int64_t seq);
  // Takes a page read from the store at the tail.
  void take_page(EventsPage page);
  Task<void> wait(Duration timeout);

  Env& env_;
  FeedOptions options_;
  std::int64_t position_;         // returned by next() up to here
  std::int64_t resume_seq_;       // written by the caller up to here (delivered())
  std::int64_t tail_;             // queued in ready_ (or skipped) up to here, without a gap
  std::vector<UserEvent> ready_;  // to return: stored events past position_, and previews
  std::size_t ready_announced_bytes_ = 0;      // what announcements added to ready_
  std::size_t holding_bytes_ = 0;              // what the caller holds of the last batch
  std::uint64_t budget_share_ = 0;             // in options_.budget
  bool gave_up_ = false;                       // asked to by the budget
  std::map<std::int64_t, UserEvent> early_;    // announced past a gap after tail_, by number
  std::optional<SteadyInstant> gap_deadline_;  // while early_ holds some: when to read the store
  bool overflowed_ = false;                    // the client fell behind: the feed is done
  std::optional<Error> gone_;                  // it cannot follow on (end_gone): done too
  bool interrupted_ = false;
  bool poll_due_ = true;
  std::uint64_t store_reads_ = 0;
  std::optional<Promise<bool>> waiter_;
  SubscriptionPtr subscription_;
};

}  // namespace reliant::updates
