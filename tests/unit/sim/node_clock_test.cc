// NodeClock: skew, drift while faults last, wall-clock steps either way; a steady clock that
// drifts but never steps.
#include "sim/node_clock.h"

#include <gtest/gtest.h>

#include "sim/sim_executor.h"

namespace reliant::sim {
namespace {

TEST(NodeClock, SkewDriftAndStepsAddUpOnTheWallClock) {
  NodeClock clock(seconds(-3));
  const Instant start = kSimEpoch;
  EXPECT_EQ(clock.read(start), start - seconds(3));

  clock.drift(-0.25, start);  // loses a quarter of a second every second
  EXPECT_EQ(clock.offset(start + seconds(8)), seconds(-5));
  clock.step(seconds(10));
  EXPECT_EQ(clock.offset(start + seconds(8)), seconds(5));
  clock.stop_drift(start + seconds(8));  // what drift took away stays taken
  EXPECT_EQ(clock.offset(start + seconds(100)), seconds(5));

  clock.step(seconds(-12));  // NTP sets it back
  EXPECT_EQ(clock.offset(start + seconds(100)), seconds(-7));
  EXPECT_EQ(clock.read(start + seconds(100)), start + seconds(93));
}

TEST(NodeClock, TheSteadyClockDriftsWithTheWallClockButNeverSteps) {
  const Instant start = kSimEpoch;
  NodeClock clock(seconds(50));  // skew is the wall clock's alone
  EXPECT_EQ(clock.read_steady(start), NodeClock::steady(start));
  clock.drift(0.4, start);
  SteadyInstant last_steady = clock.read_steady(start);
  Instant last_wall = clock.read(start);
  bool wall_went_back = false;
  for (int step = 1; step <= 1000; ++step) {
    const Instant world_now = start + milliseconds(step * 10);
    if (step == 300) clock.step(seconds(7));
    if (step == 500) clock.step(seconds(-20));
    if (step == 700) clock.stop_drift(world_now);
    const SteadyInstant steady = clock.read_steady(world_now);
    const Instant wall = clock.read(world_now);
    EXPECT_GT(steady, last_steady) << step;
    wall_went_back = wall_went_back || wall < last_wall;
    last_steady = steady;
    last_wall = wall;
  }
  EXPECT_TRUE(wall_went_back);
  // 2 s of drift at 40 % between 0 and 7 s: the steady clock gained 2.8 s, and kept it.
  EXPECT_EQ(last_steady - NodeClock::steady(start + seconds(10)), milliseconds(2800));
  EXPECT_EQ(last_wall - (start + seconds(10)), milliseconds(2800) + seconds(50 + 7 - 20));
}

TEST(NodeClock, AnExecutorReadsItsMachinesClockWhileTimersKeepVirtualTime) {
  World world(1);
  const NodeId node = world.add_node("n");
  NodeClock clock(seconds(2));
  SimExecutor executor(world, node, &clock);
  EXPECT_EQ(executor.now(), world.now() + seconds(2));
  Instant fired{};
  executor.after(seconds(1), [&] { fired = world.now(); });
  const SteadyInstant steady_start = executor.steady_now();
  clock.step(seconds(30));  // a step of the clock does not fire timers early
  world.run_until(world.now() + seconds(5));
  EXPECT_EQ(fired, kSimEpoch + seconds(1));
  EXPECT_EQ(executor.now(), world.now() + seconds(32));
  EXPECT_EQ(executor.steady_now() - steady_start, seconds(5));  // nor moves the steady clock
  clock.step(seconds(-60));
  EXPECT_EQ(executor.now(), world.now() - seconds(28));
  EXPECT_EQ(executor.steady_now() - steady_start, seconds(5));
}

}  // namespace
}  // namespace reliant::sim
