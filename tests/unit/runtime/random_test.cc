// Random: reproducible, splittable, in range; ids: sortable, unique, well-formed.
#include <gtest/gtest.h>

#include <set>

#include "runtime/ids.h"
#include "runtime/random.h"
#include "sim/sim_executor.h"

namespace reliant {
namespace {

TEST(Random, SameSeedSameSequence) {
  Random a(7);
  Random b(7);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.next(), b.next());
  Random c(8);
  EXPECT_NE(Random(7).next(), c.next());
}

TEST(Random, SplitsAreReproducibleAndIndependent) {
  Random a(7);
  Random b(7);
  Random a1 = a.split("node-1");
  Random b1 = b.split("node-1");
  EXPECT_EQ(a1.next(), b1.next());
  Random a2 = a.split("node-2");
  Random b2 = b.split("node-2");
  EXPECT_EQ(a2.next(), b2.next());
  EXPECT_NE(Random(7).split("node-1").next(), Random(7).split("node-2").next());
}

TEST(Random, StaysWithinBounds) {
  Random r(1);
  for (int i = 0; i < 10000; ++i) {
    EXPECT_LT(r.below(7), 7u);
    const auto x = r.between(-3, 3);
    EXPECT_GE(x, -3);
    EXPECT_LE(x, 3);
    const double u = r.unit();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
  EXPECT_FALSE(r.chance(0));
  EXPECT_TRUE(r.chance(1));
  EXPECT_EQ(r.between(milliseconds(5), milliseconds(5)), milliseconds(5));
}

TEST(Random, BelowIsRoughlyUniform) {
  Random r(3);
  int counts[4] = {};
  for (int i = 0; i < 40000; ++i) ++counts[r.below(4)];
  for (int c : counts) {
    EXPECT_GT(c, 9500);
    EXPECT_LT(c, 10500);
  }
}

TEST(IdGenerator, IdsAreWellFormedUniqueAndSortedEvenWithinOneMillisecond) {
  sim::World world(1);
  sim::SimExecutor clock(world, world.add_node("n"));
  IdGenerator ids(clock, Random(5));
  std::string previous;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    if (i % 100 == 0) world.run_until(world.now() + milliseconds(3));
    const auto id = ids.next();
    EXPECT_TRUE(is_valid_id(id)) << id;
    EXPECT_GT(id, previous);
    EXPECT_TRUE(seen.insert(id).second);
    previous = id;
  }
}

TEST(IdGenerator, RejectsMalformedIds) {
  EXPECT_FALSE(is_valid_id(""));
  EXPECT_FALSE(is_valid_id("01ARZ3NDEKTSV4RRFFQ69G5FA"));   // 25 chars
  EXPECT_FALSE(is_valid_id("81ARZ3NDEKTSV4RRFFQ69G5FAV"));  // overflows 128 bits
  EXPECT_FALSE(is_valid_id("01ARZ3NDEKTSV4RRFFQ69G5FAU"));  // U is not Crockford
  EXPECT_TRUE(is_valid_id("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
}

}  // namespace
}  // namespace reliant
