// GatewayDrain: which daemons a draining gateway sends elsewhere, and when its drain is over.
#include "core/gateway_drain.h"

#include <gtest/gtest.h>

namespace reliant {
namespace {

const SteadyInstant t0 = SteadyInstant(seconds(1'000));
using Ids = std::vector<std::string>;

TEST(GatewayDrain, SendsIdleDaemonsAtOnceAndBusyOnesWhenTheirCallsAreAnswered) {
  GatewayDrain drain(t0, seconds(30));
  DrainStep step = drain.step(t0, {{"a", 0}, {"b", 2}, {"c", 0}}, 0);
  EXPECT_EQ(step.release, (Ids{"a", "c"}));
  EXPECT_FALSE(step.finished);
  EXPECT_EQ(step.look_again, t0 + seconds(30));
  // Told once: still held a moment later (their streams are ending), not told again.
  step = drain.step(t0 + milliseconds(1), {{"a", 0}, {"b", 1}, {"c", 0}}, 0);
  EXPECT_TRUE(step.release.empty());
  step = drain.step(t0 + seconds(3), {{"b", 0}}, 1);
  EXPECT_EQ(step.release, Ids{"b"});
  EXPECT_EQ(drain.released(), 3u);
  EXPECT_FALSE(step.finished);
}

TEST(GatewayDrain, FinishesWhenNothingIsHeldAndEveryWriteIsDone) {
  GatewayDrain drain(t0, seconds(30));
  EXPECT_FALSE(drain.step(t0, {{"a", 0}}, 0).finished);
  // The stream ended, but its result is still being stored.
  DrainStep step = drain.step(t0 + seconds(1), {}, 1);
  EXPECT_FALSE(step.finished);
  step = drain.step(t0 + seconds(2), {}, 0);
  EXPECT_TRUE(step.finished);
  EXPECT_FALSE(step.timed_out);
}

TEST(GatewayDrain, ANewGatewayWithNothingHeldFinishesAtOnce) {
  GatewayDrain drain(t0, seconds(30));
  const DrainStep step = drain.step(t0, {}, 0);
  EXPECT_TRUE(step.finished);
  EXPECT_FALSE(step.timed_out);
  EXPECT_EQ(drain.released(), 0u);
}

TEST(GatewayDrain, AtTheTimeoutSendsEveryDaemonAwayAndFinishes) {
  GatewayDrain drain(t0, seconds(30));
  EXPECT_EQ(drain.step(t0, {{"a", 1}, {"b", 0}}, 0).release, Ids{"b"});
  EXPECT_TRUE(drain.step(t0 + seconds(29), {{"a", 1}, {"b", 0}}, 3).release.empty());
  const DrainStep step = drain.step(t0 + seconds(30), {{"a", 1}, {"b", 0}}, 3);
  EXPECT_EQ(step.release, Ids{"a"});  // b was told already
  EXPECT_TRUE(step.finished);
  EXPECT_TRUE(step.timed_out);
  EXPECT_EQ(drain.deadline(), t0 + seconds(30));
}

TEST(GatewayDrain, ADaemonAdmittedLaterIsToldToo) {
  // A registration that was being recorded when the drain began ends up held.
  GatewayDrain drain(t0, seconds(30));
  EXPECT_EQ(drain.step(t0, {{"b", 0}}, 0).release, Ids{"b"});
  EXPECT_EQ(drain.step(t0 + seconds(1), {{"a", 0}, {"b", 0}}, 0).release, Ids{"a"});
}

TEST(GatewayDrainDeathTest, NeedsTimeToDrain) {
  EXPECT_DEATH(GatewayDrain(t0, Duration::zero()), "a drain needs time");
}

}  // namespace
}  // namespace reliant
