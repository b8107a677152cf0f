// Task, Scope, Future and sleep: values flow, exceptions propagate, destruction cancels.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>

#include "runtime/future.h"
#include "runtime/scope.h"
#include "runtime/sleep.h"
#include "sim/sim_executor.h"

namespace reliant {
namespace {

struct Loop {
  sim::World world{1};
  sim::NodeId node = world.add_node("test");
  sim::SimExecutor executor{world, node};
  void run() {
    while (world.step()) {
    }
  }
};

Task<int> answer() { co_return 42; }

Task<int> add_one(Task<int> inner) {
  const int v = co_await inner;
  co_return v + 1;
}

Task<void> store(Task<int> task, std::optional<int>* out) {
  const int v = co_await task;
  *out = v;
}

TEST(Task, ValuesFlowThroughAwaitChains) {
  Loop loop;
  Scope scope(loop.executor);
  std::optional<int> out;
  scope.spawn(store(add_one(add_one(answer())), &out));
  EXPECT_FALSE(out.has_value()) << "spawn starts on the next executor turn, not inline";
  loop.run();
  EXPECT_EQ(out, 44);
  EXPECT_EQ(scope.live_tasks(), 0u);
}

Task<int> thrower() {
  throw std::runtime_error("boom");
  co_return 0;
}

Task<void> catcher(std::string* message) {
  try {
    Task<int> t = thrower();
    (void)co_await t;
  } catch (const std::exception& e) {
    *message = e.what();
  }
}

TEST(Task, ExceptionsPropagateToTheAwaiter) {
  Loop loop;
  Scope scope(loop.executor);
  std::string message;
  scope.spawn(catcher(&message));
  loop.run();
  EXPECT_EQ(message, "boom");
}

// Marks a flag when destroyed: shows that a cancelled frame's locals are destroyed.
struct Witness {
  bool* destroyed;
  ~Witness() { *destroyed = true; }
};

Task<void> sleeper(Executor& executor, bool* destroyed, bool* finished) {
  Witness witness{destroyed};
  co_await sleep(executor, seconds(10));
  *finished = true;
}

TEST(Scope, DestroyingTheScopeCancelsSuspendedTasksAndTheirTimers) {
  Loop loop;
  bool destroyed = false;
  bool finished = false;
  {
    Scope scope(loop.executor);
    scope.spawn(sleeper(loop.executor, &destroyed, &finished));
    loop.world.run_until(loop.world.now() + seconds(1));
    EXPECT_EQ(scope.live_tasks(), 1u);
  }
  EXPECT_TRUE(destroyed);
  loop.run();  // the sleep's timer was cancelled: nothing resumes the dead frame
  EXPECT_FALSE(finished);
  EXPECT_EQ(loop.world.pending(), 0u);
}

TEST(Scope, ATaskSpawnedButNotYetStartedIsFreedWithTheScope) {
  Loop loop;
  bool destroyed = false;
  bool finished = false;
  {
    Scope scope(loop.executor);
    scope.spawn(sleeper(loop.executor, &destroyed, &finished));
  }
  loop.run();  // the posted start finds the scope gone
  EXPECT_FALSE(finished);
}

TEST(Sleep, ResumesAfterTheDelayOnTheExecutorsClock) {
  Loop loop;
  Scope scope(loop.executor);
  bool destroyed = false;
  bool finished = false;
  const Instant start = loop.world.now();
  scope.spawn(sleeper(loop.executor, &destroyed, &finished));
  loop.world.run_until(start + milliseconds(9999));
  EXPECT_FALSE(finished);
  loop.world.run_until(start + seconds(10));
  EXPECT_TRUE(finished);
}

Task<void> wait_future(Future<std::string> future, std::string* out) {
  std::string value = co_await future;
  *out = value;
}

TEST(Future, FirstSetWinsAndResumesOnALaterTurn) {
  Loop loop;
  Scope scope(loop.executor);
  auto [promise, future] = make_promise<std::string>(loop.executor);
  std::string out;
  scope.spawn(wait_future(std::move(future), &out));
  loop.run();
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(promise.set("first"));
  EXPECT_FALSE(promise.set("second"));
  EXPECT_TRUE(out.empty()) << "set() must not resume the waiter inline";
  loop.run();
  EXPECT_EQ(out, "first");
}

TEST(Future, ASetAfterTheWaiterWasCancelledIsHarmless) {
  Loop loop;
  auto [promise, future] = make_promise<std::string>(loop.executor);
  std::string out;
  {
    Scope scope(loop.executor);
    scope.spawn(wait_future(std::move(future), &out));
    loop.run();
  }
  EXPECT_TRUE(promise.set("late"));
  loop.run();
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace reliant
