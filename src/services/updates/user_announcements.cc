// UserAnnouncements: one bus subscription per user with listeners, each announcement decoded once.
#include "services/updates/user_announcements.h"

#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>

namespace reliant::updates {

struct UserAnnouncements::State {
  struct User {
    SubscriptionPtr subscription;
    std::map<std::uint64_t, AnnouncementListener> listeners;
  };

  explicit State(Bus& b) : bus(b) {}

  void heard(const std::string& user_id, const BusMessage& message);
  void leave(const std::string& user_id, std::uint64_t id);

  Bus& bus;
  std::unordered_map<std::string, User> users;
  std::uint64_t next_id = 1;
  int delivering = 0;  // heard() calls under way: a user left empty meanwhile is removed after
};

// A listener's handle: dropping it removes the listener, and the user's bus subscription with
// its last one.
class UserAnnouncements::Listening final : public Subscription {
 public:
  Listening(std::shared_ptr<State> state, std::string user_id, std::uint64_t id)
      : state_(std::move(state)), user_id_(std::move(user_id)), id_(id) {}
  ~Listening() override { state_->leave(user_id_, id_); }

 private:
  std::shared_ptr<State> state_;
  std::string user_id_;
  std::uint64_t id_;
};

void UserAnnouncements::State::heard(const std::string& user_id, const BusMessage& message) {
  auto user = users.find(user_id);
  if (user == users.end()) return;
  auto events = decode_announcement(message.data);
  if (!events) return;
  const Announcement announcement{*events, message.data.size()};
  // A listener may drop its own handle, or another's, while it is offered the announcement: the
  // ones to call are taken first, and each is looked up again before its call.
  std::vector<std::uint64_t> ids;
  ids.reserve(user->second.listeners.size());
  for (const auto& [id, listener] : user->second.listeners) ids.push_back(id);
  ++delivering;
  for (std::uint64_t id : ids) {
    user = users.find(user_id);
    auto listener = user->second.listeners.find(id);
    if (listener == user->second.listeners.end()) continue;
    const AnnouncementListener call = listener->second;  // may be removed during the call
    call(announcement);
  }
  --delivering;
  // The subscription whose handler this is goes only once its delivery is done.
  user = users.find(user_id);
  if (delivering == 0 && user->second.listeners.empty()) users.erase(user);
}

void UserAnnouncements::State::leave(const std::string& user_id, std::uint64_t id) {
  auto user = users.find(user_id);
  if (user == users.end()) return;
  user->second.listeners.erase(id);
  if (user->second.listeners.empty() && delivering == 0) users.erase(user);
}

UserAnnouncements::UserAnnouncements(Bus& bus) : state_(std::make_shared<State>(bus)) {}

Result<SubscriptionPtr> UserAnnouncements::listen(const std::string& user_id,
                                                  AnnouncementListener listener) {
  State& state = *state_;
  auto user = state.users.find(user_id);
  if (user == state.users.end()) {
    auto subscription = state.bus.subscribe(
        user_subject(user_id),
        [raw = &state, user_id](const BusMessage& message) { raw->heard(user_id, message); });
    if (!subscription) return fail(subscription.error());
    user = state.users.emplace(user_id, State::User{std::move(*subscription), {}}).first;
  }
  const std::uint64_t id = state.next_id++;
  user->second.listeners.emplace(id, std::move(listener));
  return std::make_unique<Listening>(state_, user_id, id);
}

std::size_t UserAnnouncements::users() const { return state_->users.size(); }

}  // namespace reliant::updates
