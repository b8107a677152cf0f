// SimProcess: a crash frees the component's tasks and subscriptions; a restart is a fresh start.
#include "sim/process.h"

#include <gtest/gtest.h>

#include "runtime/scope.h"
#include "runtime/sleep.h"

namespace reliant::sim {
namespace {

struct Counters {
  int constructed = 0;
  int destroyed = 0;
  int ticks = 0;
  int messages = 0;
};

// A minimal component: ticks every second and counts bus messages.
class Ticker {
 public:
  Ticker(Env& env, Counters& counters) : env_(env), counters_(counters), scope_(env.executor) {
    ++counters_.constructed;
    subscription_ = std::move(
        *env_.bus->subscribe("ticks", [this](const BusMessage&) { ++counters_.messages; }));
    scope_.spawn(tick());
  }
  ~Ticker() { ++counters_.destroyed; }

 private:
  Task<void> tick() {
    for (;;) {
      co_await sleep(env_.executor, seconds(1));
      ++counters_.ticks;
    }
  }
  Env& env_;
  Counters& counters_;
  SubscriptionPtr subscription_;
  Scope scope_;
};

TEST(SimProcess, CrashStopsEverythingAndRestartBeginsAgain) {
  World world(1);
  Network network(milliseconds(1), milliseconds(1));
  SimBroker broker(world, network);
  SimStreams streams(world, network);
  Counters counters;
  SimProcess process(
      world, broker, streams, world.add_node("ticker"),
      [&counters](Env& env) { return std::make_shared<Ticker>(env, counters); }, Duration::zero());
  SimExecutor publisher_exec(world, world.add_node("publisher"));
  SimBus publisher(broker, publisher_exec);

  process.start();
  world.run_until(kSimEpoch + milliseconds(3500));
  EXPECT_EQ(counters.ticks, 3);
  ASSERT_TRUE(publisher.publish("ticks", "x"));
  world.run_until(world.now() + milliseconds(10));
  EXPECT_EQ(counters.messages, 1);

  // A message in flight when the process dies is never handled by anyone.
  ASSERT_TRUE(publisher.publish("ticks", "in flight"));
  process.crash();
  EXPECT_EQ(counters.destroyed, 1);
  world.run_until(world.now() + seconds(10));
  EXPECT_EQ(counters.ticks, 3) << "no tick after the crash";
  EXPECT_EQ(counters.messages, 1);

  process.start();
  EXPECT_EQ(counters.constructed, 2);
  world.run_until(world.now() + milliseconds(2500));
  EXPECT_EQ(counters.ticks, 5);
  EXPECT_EQ(process.starts(), 2u);
  EXPECT_EQ(process.crashes(), 1u);
}

TEST(SimProcess, PauseFreezesAndResumeCatchesUp) {
  World world(1);
  Network network(milliseconds(1), milliseconds(1));
  SimBroker broker(world, network);
  SimStreams streams(world, network);
  Counters counters;
  SimProcess process(
      world, broker, streams, world.add_node("ticker"),
      [&counters](Env& env) { return std::make_shared<Ticker>(env, counters); }, Duration::zero());
  process.start();
  world.run_until(kSimEpoch + milliseconds(1500));
  EXPECT_EQ(counters.ticks, 1);
  process.pause();
  world.run_until(kSimEpoch + milliseconds(9500));
  EXPECT_EQ(counters.ticks, 1);
  process.resume();
  world.run_until(world.now() + milliseconds(1));
  EXPECT_EQ(counters.ticks, 2) << "the timer due during the pause fires at resume";
}

}  // namespace
}  // namespace reliant::sim
