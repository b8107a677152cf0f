// Failure times per key, oldest first; a key is refused while `failures_max` lie in the window.
#include "core/attempt_limiter.h"

#include "base/sha256.h"

namespace reliant {

namespace {

// Keys come from clients (an email typed at the form): a long one is kept as its digest, so the
// map's size is bounded by its key count.
constexpr std::size_t kKeyBytesMax = 64;

std::string bounded(const std::string& key) {
  if (key.size() <= kKeyBytesMax) return key;
  return "sha256:" + to_hex(Sha256::of(key));
}

}  // namespace

AttemptLimiter::AttemptLimiter(int failures_max, Duration window, std::size_t keys_max)
    : failures_max_(failures_max), window_(window), keys_max_(keys_max) {}

void AttemptLimiter::forget_expired(std::deque<SteadyInstant>& times, SteadyInstant now) const {
  while (!times.empty() && times.front() + window_ <= now) times.pop_front();
}

void AttemptLimiter::prune(SteadyInstant now) {
  for (auto it = failures_.begin(); it != failures_.end();) {
    forget_expired(it->second, now);
    it = it->second.empty() ? failures_.erase(it) : std::next(it);
  }
}

bool AttemptLimiter::allowed(const std::string& key, SteadyInstant now, Duration* retry_after) {
  auto it = failures_.find(bounded(key));
  if (it == failures_.end()) return true;
  forget_expired(it->second, now);
  if (static_cast<int>(it->second.size()) < failures_max_) return true;
  if (retry_after != nullptr) *retry_after = it->second.front() + window_ - now;
  return false;
}

void AttemptLimiter::failed(const std::string& key, SteadyInstant now) {
  const std::string kept = bounded(key);
  auto it = failures_.find(kept);
  if (it == failures_.end()) {
    if (failures_.size() >= keys_max_) prune(now);
    if (failures_.size() >= keys_max_) return;
    it = failures_.emplace(kept, std::deque<SteadyInstant>()).first;
  }
  forget_expired(it->second, now);
  it->second.push_back(now);
  // Only the newest failures_max matter for the decision.
  while (static_cast<int>(it->second.size()) > failures_max_) it->second.pop_front();
}

void AttemptLimiter::forgive(const std::string& key, SteadyInstant at) {
  auto it = failures_.find(bounded(key));
  if (it == failures_.end()) return;
  std::deque<SteadyInstant>& times = it->second;
  // The newest match: attempts are recorded in time order, and the one forgiven is recent.
  for (auto t = times.rbegin(); t != times.rend(); ++t) {
    if (*t != at) continue;
    times.erase(std::next(t).base());
    break;
  }
  if (times.empty()) failures_.erase(it);
}

void AttemptLimiter::succeeded(const std::string& key) { failures_.erase(bounded(key)); }

}  // namespace reliant
