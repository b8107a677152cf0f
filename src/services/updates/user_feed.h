// UserFeed: one client's view of its updates — every stored event after `since_seq`, in order,
// with no gap and no duplicate, plus live previews. It listens on the bus for announcements
// and reads the store whenever one shows it is behind (or the poll fires, in case the bus lost
// one), so it works the same in the monolith (in-process bus) and on any api replica (NATS).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/env.h"
#include "runtime/future.h"
#include "services/updates/user_events.h"

namespace reliant::updates {

struct FeedOptions {
  std::string user_id;
  std::int64_t since_seq = 0;
  std::string chat_id;   // non-empty: only this chat's updates
  bool previews = true;  // text deltas and tool progress (seq 0)
  Duration poll_interval = seconds(1);
  std::int64_t batch = 500;
};

class UserFeed {
 public:
  // `env` must carry a bus and a store.
  static Result<std::unique_ptr<UserFeed>> open(Env& env, FeedOptions options);
  ~UserFeed();

  // The next updates, waiting until there are some or `max_wait` passes (then none). Fails
  // only when the store fails; the caller may call again.
  Task<Result<std::vector<UserEvent>>> next(Duration max_wait = hours(24 * 365));
  // The highest stored number delivered (or skipped as another chat's) so far.
  std::int64_t position() const { return position_; }
  // The calls to next() that read the store (the rest were served by announcements).
  std::uint64_t store_reads() const { return store_reads_; }

 private:
  UserFeed(Env& env, FeedOptions options);
  void on_announcement(const BusMessage& message);
  bool wanted(const UserEvent& event) const;
  Task<void> wait(Duration timeout);

  Env& env_;
  FeedOptions options_;
  std::int64_t position_;         // returned by next() up to here
  std::int64_t tail_;             // queued in ready_ (or skipped) up to here, without a gap
  std::vector<UserEvent> ready_;  // to return: stored events past position_, and previews
  bool poll_due_ = true;
  std::uint64_t store_reads_ = 0;
  std::optional<Promise<bool>> waiter_;
  SubscriptionPtr subscription_;
};

}  // namespace reliant::updates
