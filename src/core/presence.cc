// The daemon status machine: active ⇄ idle → disconnected.
#include "core/presence.h"

#include "base/assert.h"

namespace reliant {

Presence::Presence(PresencePolicy policy, SteadyInstant connected_at)
    : policy_(policy), last_heard_(connected_at) {
  // Idle must come before the stream is given up on, or a silent daemon would never be idle.
  RELIANT_ASSERT(policy_.stale_after > Duration::zero());
  RELIANT_ASSERT(policy_.disconnect_after > policy_.stale_after);
}

std::optional<DaemonStatus> Presence::on_heard(SteadyInstant now) {
  if (status_ == DaemonStatus::disconnected) return std::nullopt;
  if (now > last_heard_) last_heard_ = now;
  if (status_ == DaemonStatus::idle) {
    status_ = DaemonStatus::active;
    return status_;
  }
  return std::nullopt;
}

std::optional<DaemonStatus> Presence::on_tick(SteadyInstant now) {
  if (status_ == DaemonStatus::active && now - last_heard_ >= policy_.stale_after) {
    status_ = DaemonStatus::idle;
    return status_;
  }
  return std::nullopt;
}

bool Presence::presumed_dead(SteadyInstant now) const {
  return status_ != DaemonStatus::disconnected && now - last_heard_ >= policy_.disconnect_after;
}

std::optional<DaemonStatus> Presence::on_disconnect() {
  if (status_ == DaemonStatus::disconnected) return std::nullopt;
  status_ = DaemonStatus::disconnected;
  return status_;
}

SteadyInstant Presence::next_deadline() const {
  const SteadyInstant deadline = status_ == DaemonStatus::active
                                     ? last_heard_ + policy_.stale_after
                                     : last_heard_ + policy_.disconnect_after;
  RELIANT_ASSERT(deadline > last_heard_);
  return deadline;
}

}  // namespace reliant
