// Backoff: exponential delays with full jitter and a cap, for reconnects and retries.
#pragma once

#include <cstdint>

#include "base/time.h"
#include "runtime/random.h"

namespace reliant {

struct BackoffPolicy {
  Duration initial = milliseconds(500);
  Duration max = seconds(30);
  double multiplier = 2.0;
  // Fraction of each delay that is randomised: 0 = none, 1 = anywhere in [0, delay].
  double jitter = 0.5;
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy);

  // The delay before the next attempt; grows with each call until `max`.
  Duration next(Random& random);
  // After a success: the next failure starts again from `initial`.
  void reset() { attempt_ = 0; }
  std::uint32_t attempts() const { return attempt_; }

 private:
  BackoffPolicy policy_;
  std::uint32_t attempt_ = 0;
};

}  // namespace reliant
