// The heartbeats a daemon sent on one stream that its gateway has not acknowledged yet: when the
// oldest of them was sent says whether the daemon's direction of the stream still carries
// anything. A stream can stall one way (a one-way partition, a send queue that never drains)
// while the gateway's frames still arrive; the silence rule alone never notices that side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "base/assert.h"
#include "base/time.h"

namespace reliant::daemon {

class HeartbeatAcks {
 public:
  // Heartbeats remembered at most. Only the oldest matters, so a full record keeps it and
  // forgets the newest: by then the stream has long been given up (the deadline is a few
  // heartbeat intervals).
  static constexpr std::size_t kUnackedMax = 64;

  void sent(std::uint64_t sequence, SteadyInstant at) {
    RELIANT_ASSERT(unacked_.empty() || unacked_.back().sequence < sequence);
    if (unacked_.size() < kUnackedMax) unacked_.push_back(Sent{sequence, at});
  }

  // The gateway heard every heartbeat up to `sequence` (an acknowledgement that arrives late, or
  // twice, changes nothing more).
  void acked(std::uint64_t sequence) {
    while (!unacked_.empty() && unacked_.front().sequence <= sequence) unacked_.pop_front();
  }

  // When the oldest heartbeat not acknowledged yet was sent, if there is one.
  std::optional<SteadyInstant> oldest_unacked_at() const {
    if (unacked_.empty()) return std::nullopt;
    return unacked_.front().at;
  }

 private:
  struct Sent {
    std::uint64_t sequence;
    SteadyInstant at;
  };
  std::deque<Sent> unacked_;
};

}  // namespace reliant::daemon
