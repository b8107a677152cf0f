// LruMap: bounded, least recently used out first, taken entries gone until put back.
#include "base/lru_map.h"

#include <gtest/gtest.h>

#include <memory>

namespace reliant {
namespace {

TEST(LruMap, DropsTheLeastRecentlyPutBeyondItsCapacity) {
  LruMap<int> map(2);
  map.put("a", 1);
  map.put("b", 2);
  map.put("a", 10);  // a is the most recent now
  map.put("c", 3);
  EXPECT_EQ(map.size(), 2u);
  EXPECT_EQ(map.peek("b"), nullptr);
  ASSERT_NE(map.peek("a"), nullptr);
  EXPECT_EQ(*map.peek("a"), 10);
  EXPECT_EQ(*map.peek("c"), 3);
}

TEST(LruMap, TakingRemovesAndAZeroCapacityKeepsNothing) {
  LruMap<std::unique_ptr<int>> map(4);  // values need only move
  map.put("a", std::make_unique<int>(7));
  auto taken = map.take("a");
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(**taken, 7);
  EXPECT_FALSE(map.take("a").has_value());
  map.put("b", std::make_unique<int>(1));
  map.erase("b");
  EXPECT_EQ(map.size(), 0u);
  LruMap<int> none(0);
  none.put("a", 1);
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace reliant
