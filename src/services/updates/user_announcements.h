// UserAnnouncements: the update announcements (updates.user.<user>) one process hears, shared by
// all its update streams. A stream that subscribed for itself had each announcement of its user
// delivered, and decoded, once per open stream: a user following eight chats made the bus carry
// and the api parse every announcement eight times. Here a user has one bus subscription, and
// each announcement is decoded once and offered to each of the user's streams.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/bus.h"
#include "services/updates/user_events.h"

namespace reliant::updates {

// What a stream is offered: the decoded events, shared by the user's streams (valid during the
// call only), and the size of the announcement they came in.
struct Announcement {
  const std::vector<UserEvent>& events;
  std::size_t bytes = 0;
};
using AnnouncementListener = std::function<void(const Announcement&)>;

class UserAnnouncements {
 public:
  // Listeners are called on `bus`'s executor, as its handlers are.
  explicit UserAnnouncements(Bus& bus);

  // Offers `listener` each announcement of `user_id` until the returned handle is dropped (also
  // from inside a listener). A malformed announcement is offered to nobody: the streams read
  // the gap it leaves from the store, as after a lost one.
  Result<SubscriptionPtr> listen(const std::string& user_id, AnnouncementListener listener);
  // Users with a listener: one bus subscription each.
  std::size_t users() const;

 private:
  struct State;
  class Listening;
  std::shared_ptr<State> state_;  // shared with the handles, which may outlive this
};

}  // namespace reliant::updates
