// Exponential backoff: delay = min(max, initial * multiplier^attempt), minus up to `jitter` of it.
#include "core/backoff.h"

#include <algorithm>
#include <cmath>

#include "base/assert.h"

namespace reliant {

Backoff::Backoff(BackoffPolicy policy) : policy_(policy) {
  RELIANT_ASSERT(policy_.initial.count() > 0);
  RELIANT_ASSERT(policy_.max >= policy_.initial);
  RELIANT_ASSERT(policy_.multiplier >= 1.0);
  RELIANT_ASSERT(policy_.jitter >= 0.0 && policy_.jitter <= 1.0);
}

Duration Backoff::next(Random& random) {
  const double grown = static_cast<double>(policy_.initial.count()) *
                       std::pow(policy_.multiplier, std::min<std::uint32_t>(attempt_, 64));
  const double capped = std::min(grown, static_cast<double>(policy_.max.count()));
  ++attempt_;
  const double jitter = capped * policy_.jitter * random.unit();
  const auto delay = Duration(static_cast<Duration::rep>(capped - jitter));
  RELIANT_ASSERT(delay <= policy_.max);
  return std::max(delay, Duration(1));
}

}  // namespace reliant
