// AsioExecutor: cross-thread posts, timers in deadline order, cancellation, coroutines on it.
#include "adapters/asio/asio_executor.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "runtime/scope.h"
#include "runtime/sleep.h"

namespace reliant {
namespace {

TEST(AsioExecutor, PostsFromOtherThreadsRunOnTheLoopThread) {
  AsioExecutor executor;
  std::thread::id loop_thread;
  std::vector<std::thread::id> ran_on;
  std::thread producer([&] {
    for (int i = 0; i < 3; ++i)
      executor.post([&] { ran_on.push_back(std::this_thread::get_id()); });
    executor.post([&] { executor.stop(); });
  });
  loop_thread = std::this_thread::get_id();
  executor.run();
  producer.join();
  ASSERT_EQ(ran_on.size(), 3u);
  for (auto id : ran_on) EXPECT_EQ(id, loop_thread);
}

TEST(AsioExecutor, TimersFireInDeadlineOrderAndCancelledOnesNever) {
  AsioExecutor executor;
  std::vector<int> order;
  executor.after(milliseconds(30), [&] { order.push_back(3); });
  const TimerId cancelled = executor.after(milliseconds(20), [&] { order.push_back(99); });
  executor.after(milliseconds(10), [&] { order.push_back(1); });
  EXPECT_TRUE(executor.cancel(cancelled));
  EXPECT_FALSE(executor.cancel(cancelled));
  executor.run(/*keep_alive=*/false);
  EXPECT_EQ(order, (std::vector<int>{1, 3}));
}

TEST(AsioExecutor, ATimerCancelledAfterItExpiredButBeforeItsHandlerRanNeverRuns) {
  AsioExecutor executor;
  // Both expire together, so asio has already queued the second's completion (with success)
  // when the first cancels it: cancel() must still win.
  bool second_ran = false;
  TimerId second = 0;
  executor.after(Duration::zero(), [&] { EXPECT_TRUE(executor.cancel(second)); });
  second = executor.after(Duration::zero(), [&] { second_ran = true; });
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // both are due before the loop runs
  executor.run(/*keep_alive=*/false);
  EXPECT_FALSE(second_ran);
}

Task<void> nap(Executor& executor, Instant* woke) {
  co_await sleep(executor, milliseconds(20));
  *woke = executor.now();
}

TEST(AsioExecutor, RunsCoroutinesWithRealTime) {
  AsioExecutor executor;
  Scope scope(executor);
  const Instant start = executor.now();
  Instant woke{};
  scope.spawn(nap(executor, &woke));
  executor.run(/*keep_alive=*/false);
  EXPECT_GE(woke - start, milliseconds(20));
}

TEST(AsioExecutor, ClockIsWallTime) {
  AsioExecutor executor;
  const auto now_s = to_ms(executor.now()) / 1000;
  EXPECT_GT(now_s, 1'700'000'000);  // after 2023: a real epoch clock, not a steady counter
}

}  // namespace
}  // namespace reliant
