// The worker's sticky run cache: a map into a recency list.
#include "services/worker/run_cache.h"

#include "base/assert.h"

namespace reliant::engine {

KeptRun RunCache::take(const std::string& run_id) {
  auto found = by_run_.find(run_id);
  if (found == by_run_.end()) return KeptRun{};
  KeptRun run = std::move(found->second->second);
  entries_.erase(found->second);
  by_run_.erase(found);
  return run;
}

void RunCache::put(const std::string& run_id, KeptRun run) {
  if (capacity_ == 0 || run.state.last_seq == 0 || run.state.terminal) {
    erase(run_id);  // an ended run is decided no more
    return;
  }
  if (auto found = by_run_.find(run_id); found != by_run_.end()) {
    // Two decisions of one run on this worker at once: keep the one that saw more.
    if (found->second->second.state.last_seq >= run.state.last_seq) return;
    entries_.erase(found->second);
    by_run_.erase(found);
  }
  entries_.emplace_front(run_id, std::move(run));
  by_run_[run_id] = entries_.begin();
  if (by_run_.size() > capacity_) {
    by_run_.erase(entries_.back().first);
    entries_.pop_back();
  }
  RELIANT_ASSERT(by_run_.size() == entries_.size() && by_run_.size() <= capacity_);
}

void RunCache::erase(const std::string& run_id) {
  auto found = by_run_.find(run_id);
  if (found == by_run_.end()) return;
  entries_.erase(found->second);
  by_run_.erase(found);
}

}  // namespace reliant::engine
