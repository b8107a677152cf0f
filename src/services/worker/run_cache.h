// RunCache: the runs a worker decided lately, each as its folded history with its workflow's
// memo, so that the next decision of one reads only the events appended since and its
// interpreter hears only the new answers (Temporal's sticky execution, docs/architecture.md §7).
// Any worker may still decide any run: an entry another worker has overtaken is brought up to
// date under the run's lock, so the cache saves work and never changes a decision. Bounded by
// entries; the least recently used goes first.
#pragma once

#include <cstddef>
#include <string>

#include "base/lru_map.h"
#include "services/engine/engine_sql.h"

namespace reliant::engine {

class RunCache {
 public:
  // `capacity` 0 keeps nothing.
  explicit RunCache(std::size_t capacity) : runs_(capacity) {}

  // Removes and returns the run's state; an empty one (last_seq 0) when none is kept. A state is
  // taken out while a decision uses it, so two decisions of one run never share it.
  KeptRun take(const std::string& run_id);
  // Keeps `run`, the run's state after a committed transaction, unless a newer one is kept.
  void put(const std::string& run_id, KeptRun run);
  void erase(const std::string& run_id) { runs_.erase(run_id); }
  bool contains(const std::string& run_id) const { return runs_.peek(run_id) != nullptr; }

  std::size_t size() const { return runs_.size(); }

 private:
  LruMap<KeptRun> runs_;
};

}  // namespace reliant::engine
