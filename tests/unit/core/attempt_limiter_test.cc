// The sign-in form's guard: N failures per key in a sliding window, then refused until the
// oldest leaves it; success clears the key; memory stays bounded.
#include <gtest/gtest.h>

#include "core/attempt_limiter.h"

namespace reliant {
namespace {

const SteadyInstant t0 = SteadyInstant(seconds(1000));

TEST(AttemptLimiter, RefusesAfterMaxFailuresUntilTheOldestLeavesTheWindow) {
  AttemptLimiter limiter(3, minutes(15));
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(limiter.allowed("ada", t0 + minutes(i)));
    limiter.failed("ada", t0 + minutes(i));
  }
  Duration wait{0};
  EXPECT_FALSE(limiter.allowed("ada", t0 + minutes(3), &wait));
  EXPECT_EQ(wait, minutes(12)) << "until the first failure is 15 minutes old";
  EXPECT_TRUE(limiter.allowed("bob", t0 + minutes(3))) << "keys are independent";
  EXPECT_TRUE(limiter.allowed("ada", t0 + minutes(15)));
  limiter.failed("ada", t0 + minutes(15));
  EXPECT_FALSE(limiter.allowed("ada", t0 + minutes(15))) << "the window slides";
  limiter.succeeded("ada");
  EXPECT_TRUE(limiter.allowed("ada", t0 + minutes(15)));
}

TEST(AttemptLimiter, KeepsAtMostMaxKeysAndDropsExpiredOnesFirst) {
  AttemptLimiter limiter(1, minutes(1), 2);
  limiter.failed("a", t0);
  limiter.failed("b", t0);
  limiter.failed("c", t0);  // no room: not tracked
  EXPECT_EQ(limiter.tracked(), 2u);
  EXPECT_TRUE(limiter.allowed("c", t0));
  limiter.failed("d", t0 + minutes(2));  // a and b expired: room again
  EXPECT_EQ(limiter.tracked(), 1u);
  EXPECT_FALSE(limiter.allowed("d", t0 + minutes(2)));
}

// The sign-in form records an attempt before its slow check and forgives it when it succeeds.
TEST(AttemptLimiter, AForgivenAttemptNoLongerCountsAndOnlyThatOneIsForgiven) {
  AttemptLimiter limiter(2, minutes(15));
  limiter.failed("ada", t0);
  limiter.failed("ada", t0 + seconds(1));
  EXPECT_FALSE(limiter.allowed("ada", t0 + seconds(2)));
  limiter.forgive("ada", t0 + seconds(1));
  EXPECT_TRUE(limiter.allowed("ada", t0 + seconds(2)));
  limiter.failed("ada", t0 + seconds(2));
  EXPECT_FALSE(limiter.allowed("ada", t0 + seconds(3))) << "the failure at t0 still counts";
  limiter.forgive("ada", t0 + seconds(30));  // none at that time: nothing changes
  limiter.forgive("bob", t0);                // an unknown key: nothing changes
  EXPECT_FALSE(limiter.allowed("ada", t0 + seconds(3)));
  limiter.forgive("ada", t0);
  limiter.forgive("ada", t0 + seconds(2));
  EXPECT_EQ(limiter.tracked(), 0u) << "a key with nothing left is dropped";
}

// Keys come from clients: a megabyte-long email is kept as its digest, and still counts (its
// failures refuse it, and only it).
TEST(AttemptLimiter, KeepsALongKeyAsItsDigest) {
  AttemptLimiter limiter(2, minutes(15), 10);
  const SteadyInstant now{};
  const std::string long_key(1 << 20, 'a');
  limiter.failed(long_key, now);
  limiter.failed(long_key, now);
  EXPECT_FALSE(limiter.allowed(long_key, now));
  EXPECT_TRUE(limiter.allowed(std::string(1 << 20, 'b'), now));
  EXPECT_EQ(limiter.tracked(), 1u);
  limiter.succeeded(long_key);
  EXPECT_TRUE(limiter.allowed(long_key, now));
  EXPECT_EQ(limiter.tracked(), 0u);
}

}  // namespace
}  // namespace reliant
