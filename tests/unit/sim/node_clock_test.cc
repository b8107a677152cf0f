// NodeClock: skew, drift while faults last, forward jumps; never backwards.
#include "sim/node_clock.h"

#include <gtest/gtest.h>

#include "sim/sim_executor.h"

namespace reliant::sim {
namespace {

TEST(NodeClock, SkewDriftAndJumpsAddUpAndTheClockNeverRunsBackwards) {
  NodeClock clock(seconds(-3));
  const Instant start = kSimEpoch;
  EXPECT_EQ(clock.read(start), start - seconds(3));

  clock.drift(-0.25, start);  // loses a quarter of a second every second
  EXPECT_EQ(clock.offset(start + seconds(8)), seconds(-5));
  clock.jump(seconds(10));
  EXPECT_EQ(clock.offset(start + seconds(8)), seconds(5));
  clock.stop_drift(start + seconds(8));  // what drift took away stays taken
  EXPECT_EQ(clock.offset(start + seconds(100)), seconds(5));

  NodeClock fast(Duration::zero());
  fast.drift(0.4, start);
  Instant last = fast.read(start);
  for (int step = 1; step <= 1000; ++step) {
    if (step == 500) fast.jump(seconds(7));
    if (step == 700) fast.stop_drift(start + milliseconds(step * 10));
    const Instant now = fast.read(start + milliseconds(step * 10));
    EXPECT_GE(now, last) << step;
    last = now;
  }
}

TEST(NodeClock, AnExecutorReadsItsMachinesClockWhileTimersKeepVirtualTime) {
  World world(1);
  const NodeId node = world.add_node("n");
  NodeClock clock(seconds(2));
  SimExecutor executor(world, node, &clock);
  EXPECT_EQ(executor.now(), world.now() + seconds(2));
  Instant fired{};
  executor.after(seconds(1), [&] { fired = world.now(); });
  clock.jump(seconds(30));  // a step of the clock does not fire timers early
  world.run_until(world.now() + seconds(5));
  EXPECT_EQ(fired, kSimEpoch + seconds(1));
  EXPECT_EQ(executor.now(), world.now() + seconds(32));
}

}  // namespace
}  // namespace reliant::sim
