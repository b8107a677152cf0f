// NodeClock: what one simulated machine's clock reads — virtual time plus a fixed skew, a drift
// (seconds gained or lost per second while faults last) and the forward steps it has taken. The
// node's process incarnations share it: a restarted process keeps its machine's clock.
//
// It never runs backwards (drift > -1, forward steps only), as the Executor port promises of
// now(). Backward steps need a monotonic clock beside the wall clock in the port.
#pragma once

#include "base/assert.h"
#include "base/time.h"

namespace reliant::sim {

class NodeClock {
 public:
  explicit NodeClock(Duration skew = Duration::zero()) : offset_(skew) {}

  Instant read(Instant world_now) const { return world_now + offset(world_now); }
  // How far ahead of virtual time the clock is at `world_now` (negative: behind).
  Duration offset(Instant world_now) const {
    if (drift_ == 0) return offset_;
    const auto drifted = static_cast<double>((world_now - drift_since_).count()) * drift_;
    return offset_ + Duration(static_cast<Duration::rep>(drifted));
  }

  // From `world_now` on, gains `rate` seconds a second (loses, when negative).
  void drift(double rate, Instant world_now) {
    RELIANT_ASSERT(rate > -1);
    offset_ = offset(world_now);
    drift_ = rate;
    drift_since_ = world_now;
  }
  // Keeps what drift accumulated and drifts no more.
  void stop_drift(Instant world_now) { drift(0, world_now); }
  void jump(Duration forward) {
    RELIANT_ASSERT(forward >= Duration::zero());
    offset_ += forward;
  }

 private:
  Duration offset_;  // at drift_since_
  double drift_ = 0;
  Instant drift_since_{};
};

}  // namespace reliant::sim
