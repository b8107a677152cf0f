// The worker's sticky run cache: bounded, least recently used first out, newer states win, and a
// state is taken out while a decision uses it.
#include "services/worker/run_cache.h"

#include <gtest/gtest.h>

namespace reliant::engine {
namespace {

KeptRun kept_at(std::int64_t last_seq) {
  KeptRun run;
  run.state.last_seq = last_seq;
  run.last_event_digest = static_cast<std::size_t>(last_seq);
  return run;
}

TEST(RunCache, TakingRemovesTheStateUntilItIsPutBack) {
  RunCache cache(4);
  cache.put("a", kept_at(3));
  EXPECT_EQ(cache.take("a").state.last_seq, 3);
  EXPECT_EQ(cache.take("a").state.last_seq, 0) << "a second decision starts from nothing";
  EXPECT_EQ(cache.size(), 0u);
}

TEST(RunCache, KeepsAtMostItsCapacityDroppingTheLeastRecentlyUsed) {
  RunCache cache(2);
  cache.put("a", kept_at(1));
  cache.put("b", kept_at(1));
  cache.put("a", cache.take("a"));  // a is used again: b is now the oldest
  cache.put("c", kept_at(1));
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.take("b").state.last_seq, 0);
  EXPECT_EQ(cache.take("a").state.last_seq, 1);
  EXPECT_EQ(cache.take("c").state.last_seq, 1);
}

TEST(RunCache, AnOlderStateNeverReplacesANewerOne) {
  RunCache cache(4);
  cache.put("a", kept_at(9));
  cache.put("a", kept_at(5));  // a decision that started earlier and finished later
  EXPECT_EQ(cache.take("a").state.last_seq, 9);
  cache.put("a", kept_at(5));
  cache.put("a", kept_at(9));
  EXPECT_EQ(cache.take("a").state.last_seq, 9);
}

TEST(RunCache, EndedRunsEmptyStatesAndAZeroCapacityKeepNothing) {
  RunCache cache(4);
  cache.put("a", kept_at(4));
  KeptRun ended = kept_at(6);
  ended.state.terminal = EventKind::run_completed;
  cache.put("a", std::move(ended));
  EXPECT_EQ(cache.size(), 0u) << "an ended run is decided no more";
  cache.put("b", kept_at(0));
  EXPECT_EQ(cache.size(), 0u);
  RunCache none(0);
  none.put("a", kept_at(4));
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace reliant::engine
