// The worker's sticky run cache: which states are worth keeping.
#include "services/worker/run_cache.h"

namespace reliant::engine {

KeptRun RunCache::take(const std::string& run_id) {
  std::optional<KeptRun> run = runs_.take(run_id);
  return run ? std::move(*run) : KeptRun{};
}

void RunCache::put(const std::string& run_id, KeptRun run) {
  if (run.state.last_seq == 0 || run.state.terminal) {
    runs_.erase(run_id);  // an ended run is decided no more
    return;
  }
  // Two decisions of one run on this worker at once: keep the one that saw more.
  if (const KeptRun* kept = runs_.peek(run_id); kept && kept->state.last_seq >= run.state.last_seq)
    return;
  runs_.put(run_id, std::move(run));
}

}  // namespace reliant::engine
