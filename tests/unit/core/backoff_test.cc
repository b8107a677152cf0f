// Backoff grows, caps, jitters within bounds and resets.
#include "core/backoff.h"

#include <gtest/gtest.h>

namespace reliant {
namespace {

TEST(Backoff, GrowsExponentiallyUpToTheCapWithoutJitter) {
  Backoff b({milliseconds(100), seconds(1), 2.0, 0.0});
  Random r(1);
  EXPECT_EQ(b.next(r), milliseconds(100));
  EXPECT_EQ(b.next(r), milliseconds(200));
  EXPECT_EQ(b.next(r), milliseconds(400));
  EXPECT_EQ(b.next(r), milliseconds(800));
  EXPECT_EQ(b.next(r), seconds(1));
  EXPECT_EQ(b.next(r), seconds(1));
  b.reset();
  EXPECT_EQ(b.next(r), milliseconds(100));
}

TEST(Backoff, JitterStaysWithinItsShare) {
  Backoff b({milliseconds(100), seconds(30), 2.0, 0.5});
  Random r(2);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto expected =
        std::min<Duration>(milliseconds(100) * (1LL << std::min(attempt, 20)), seconds(30));
    const auto d = b.next(r);
    EXPECT_LE(d, expected);
    EXPECT_GE(d, expected / 2);
  }
}

}  // namespace
}  // namespace reliant
