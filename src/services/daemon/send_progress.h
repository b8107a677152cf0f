// What a daemon sent on one stream against what its gateway says it heard (Heartbeat.
// frames_heard): whether the daemon's direction of the stream still moves. A stream can stall one
// way (a one-way partition, a send queue that never drains) while the gateway's frames still
// arrive, which the silence rule never notices. A slow stream is not a stalled one: frames
// queued behind a long output reach the gateway late, but the count it reports keeps growing.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>

#include "base/time.h"

namespace reliant::daemon {

class SendProgress {
 public:
  // A frame was handed to the stream at `at`.
  void sent(SteadyInstant at) {
    if (heard_ == sent_) waiting_since_ = at;  // something is outstanding from now on
    ++sent_;
  }

  // The gateway said, at `at`, that it has heard `frames` of them in all. A count that does not
  // grow is no progress (a late or repeated word); one past what was sent counts as all.
  void heard(std::uint64_t frames, SteadyInstant at) {
    frames = std::min(frames, sent_);
    if (frames <= heard_) return;
    heard_ = frames;
    waiting_since_ = at;
  }

  // Since when frames have been outstanding without the gateway hearing one more; none while
  // it has heard every frame sent.
  std::optional<SteadyInstant> stalled_since() const {
    if (heard_ == sent_) return std::nullopt;
    return waiting_since_;
  }

 private:
  std::uint64_t sent_ = 0;
  std::uint64_t heard_ = 0;
  SteadyInstant waiting_since_{};
};

}  // namespace reliant::daemon
