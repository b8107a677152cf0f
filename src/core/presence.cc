// The daemon status machine: active ⇄ idle → disconnected.
#include "core/presence.h"

#include "base/assert.h"

namespace reliant {

std::string_view to_string(PresenceStatus status) {
  switch (status) {
    case PresenceStatus::active:
      return "active";
    case PresenceStatus::idle:
      return "idle";
    case PresenceStatus::disconnected:
      return "disconnected";
  }
  return "unknown";
}

Presence::Presence(PresencePolicy policy, Instant connected_at)
    : policy_(policy), last_heard_(connected_at) {
  // Idle must come before the stream is given up on, or a silent daemon would never be idle.
  RELIANT_ASSERT(policy_.stale_after > Duration::zero());
  RELIANT_ASSERT(policy_.disconnect_after > policy_.stale_after);
}

std::optional<PresenceStatus> Presence::on_heard(Instant now) {
  if (status_ == PresenceStatus::disconnected) return std::nullopt;
  if (now > last_heard_) last_heard_ = now;
  if (status_ == PresenceStatus::idle) {
    status_ = PresenceStatus::active;
    return status_;
  }
  return std::nullopt;
}

std::optional<PresenceStatus> Presence::on_tick(Instant now) {
  if (status_ == PresenceStatus::active && now - last_heard_ >= policy_.stale_after) {
    status_ = PresenceStatus::idle;
    return status_;
  }
  return std::nullopt;
}

bool Presence::presumed_dead(Instant now) const {
  return status_ != PresenceStatus::disconnected && now - last_heard_ >= policy_.disconnect_after;
}

std::optional<PresenceStatus> Presence::on_disconnect() {
  if (status_ == PresenceStatus::disconnected) return std::nullopt;
  status_ = PresenceStatus::disconnected;
  return status_;
}

Instant Presence::next_deadline() const {
  const Instant deadline = status_ == PresenceStatus::active
                               ? last_heard_ + policy_.stale_after
                               : last_heard_ + policy_.disconnect_after;
  RELIANT_ASSERT(deadline > last_heard_);
  return deadline;
}

}  // namespace reliant
