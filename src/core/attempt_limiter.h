// AttemptLimiter: at most `failures_max` failed attempts per key (an email, a client address)
// within a sliding `window`; past that the key is refused until its oldest failure leaves the
// window. What slows password guessing at the sign-in form. Pure: the caller passes the time.
// An attempt whose outcome takes time (a slow password hash) is recorded as failed before it
// is checked, so attempts made meanwhile already count; one that turns out not to be a failure
// is forgiven (or the key cleared by succeeded()).
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <unordered_map>

#include "base/time.h"

namespace reliant {

class AttemptLimiter {
 public:
  // Remembers at most `keys_max` keys (one longer than 64 bytes as its digest): past that, keys
  // whose failures all expired are dropped, and a new key is not tracked until there is room (it is
  // then allowed: the per-address and per-account limits together still hold a guesser back).
  AttemptLimiter(int failures_max, Duration window, std::size_t keys_max = 100'000);

  // Whether another attempt for `key` may proceed now; when not, `retry_after` says how long
  // until it may.
  bool allowed(const std::string& key, SteadyInstant now, Duration* retry_after = nullptr);
  void failed(const std::string& key, SteadyInstant now);
  // Withdraws one failure recorded for `key` at `at` (by failed(key, at)): the attempt it
  // stood for did not fail after all. Nothing happens when there is none.
  void forgive(const std::string& key, SteadyInstant at);
  void succeeded(const std::string& key);

  std::size_t tracked() const { return failures_.size(); }

 private:
  void forget_expired(std::deque<SteadyInstant>& times, SteadyInstant now) const;
  void prune(SteadyInstant now);

  int failures_max_;
  Duration window_;
  std::size_t keys_max_;
  std::unordered_map<std::string, std::deque<SteadyInstant>> failures_;
};

}  // namespace reliant
