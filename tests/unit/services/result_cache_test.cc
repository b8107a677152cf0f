// The daemon's bounded memory of answers: the first answer for an id is kept, and the oldest id
// goes first once the bound is reached — also across the rehashes of a growing map, whose keys
// the order of arrival points at.
#include <gtest/gtest.h>

#include <string>

#include "services/daemon/result_cache.h"

namespace reliant::daemon {
namespace {

TEST(ResultCache, KeepsTheFirstAnswerForAnId) {
  ResultCache<std::string> cache(4);
  cache.put("a", "first");
  cache.put("a", "second");
  ASSERT_NE(cache.find("a"), nullptr);
  EXPECT_EQ(*cache.find("a"), "first");
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find("b"), nullptr);
}

TEST(ResultCache, ForgetsTheOldestIdsFirstOnceFull) {
  constexpr int kCapacity = 1000;  // enough ids for the map to rehash several times
  ResultCache<std::string> cache(kCapacity);
  const auto id = [](int i) { return "request-" + std::to_string(i) + "-with-a-heap-sized-id"; };
  for (int i = 0; i < 3 * kCapacity; ++i) cache.put(id(i), "answer " + std::to_string(i));
  EXPECT_EQ(cache.size(), static_cast<std::size_t>(kCapacity));
  for (int i = 0; i < 2 * kCapacity; ++i) EXPECT_EQ(cache.find(id(i)), nullptr) << i;
  for (int i = 2 * kCapacity; i < 3 * kCapacity; ++i) {
    ASSERT_NE(cache.find(id(i)), nullptr) << i;
    EXPECT_EQ(*cache.find(id(i)), "answer " + std::to_string(i));
  }
  // A repeat of a remembered id changes nothing, the order of arrival included.
  cache.put(id(2 * kCapacity), "again");
  cache.put(id(3 * kCapacity), "newest");
  EXPECT_EQ(cache.find(id(2 * kCapacity)), nullptr) << "the oldest went when the newest came";
  EXPECT_NE(cache.find(id(2 * kCapacity + 1)), nullptr);
}

TEST(ResultCache, HoldsAtLeastOneAnswer) {
  ResultCache<std::string> cache(0);
  cache.put("a", "1");
  cache.put("b", "2");
  EXPECT_EQ(cache.find("a"), nullptr);
  ASSERT_NE(cache.find("b"), nullptr);
  EXPECT_EQ(*cache.find("b"), "2");
}

}  // namespace
}  // namespace reliant::daemon
