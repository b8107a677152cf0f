// NodeClock: what one simulated machine's clocks read. Its wall clock is virtual time plus a
// fixed skew, the steps it has taken (either way: NTP, an operator) and a drift (seconds gained
// or lost per second while faults last). Its steady clock has the drift only: it never steps.
// The node's process incarnations share it: a restarted process keeps its machine's clocks.
#pragma once

#include "base/assert.h"
#include "base/time.h"

namespace reliant::sim {

class NodeClock {
 public:
  explicit NodeClock(Duration skew = Duration::zero()) : stepped_(skew) {}

  Instant read(Instant world_now) const { return world_now + offset(world_now); }
  SteadyInstant read_steady(Instant world_now) const {
    return steady(world_now) + drifted(world_now);
  }
  // The steady reading of a clock that neither drifts nor steps at `world_now`.
  static SteadyInstant steady(Instant world_now) {
    return SteadyInstant(world_now.time_since_epoch());
  }
  // How far the wall clock is ahead of virtual time at `world_now` (negative: behind).
  Duration offset(Instant world_now) const { return stepped_ + drifted(world_now); }

  // From `world_now` on, gains `rate` seconds a second (loses, when negative). A rate above -1
  // keeps both clocks moving forward.
  void drift(double rate, Instant world_now) {
    RELIANT_ASSERT(rate > -1);
    drifted_ = drifted(world_now);
    drift_ = rate;
    drift_since_ = world_now;
  }
  // Keeps what drift accumulated and drifts no more.
  void stop_drift(Instant world_now) { drift(0, world_now); }
  // Steps the wall clock by `by`: forward when positive, back when negative.
  void step(Duration by) { stepped_ += by; }

 private:
  Duration drifted(Instant world_now) const {
    if (drift_ == 0) return drifted_;
    const auto gained = static_cast<double>((world_now - drift_since_).count()) * drift_;
    return drifted_ + Duration(static_cast<Duration::rep>(gained));
  }

  Duration stepped_;    // skew plus every step
  Duration drifted_{};  // accumulated by drift up to drift_since_
  double drift_ = 0;
  Instant drift_since_{};
};

}  // namespace reliant::sim
