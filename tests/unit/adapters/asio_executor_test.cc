// AsioExecutor: cross-thread posts, timers in deadline order, cancellation, coroutines on it,
// and hand-overs run by the calling thread while the executor is idle — never alongside it.
#include "adapters/asio/asio_executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
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

TEST(AsioExecutor, AnEarlierTimerSetAfterALaterOneFiresFirst) {
  AsioExecutor executor;
  std::vector<int> order;
  executor.after(milliseconds(60), [&] { order.push_back(2); });
  executor.after(milliseconds(5), [&] {
    order.push_back(1);
    executor.after(Duration::zero(), [&] { order.push_back(11); });  // set from a timer
  });
  executor.run(/*keep_alive=*/false);
  EXPECT_EQ(order, (std::vector<int>{1, 11, 2}));
}

TEST(AsioExecutor, CancellingTheLastTimerLeavesARunNothingToWaitFor) {
  AsioExecutor executor;
  const TimerId far = executor.after(seconds(30), [] {});
  executor.post([&] { executor.cancel(far); });
  const auto start = std::chrono::steady_clock::now();
  executor.run(/*keep_alive=*/false);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
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

// An executor run by a thread of its own, as a server's is while gRPC's threads hand it work.
class RunningExecutor {
 public:
  RunningExecutor() : thread_([this] { executor.run(); }) { wait_idle(); }
  ~RunningExecutor() {
    executor.post([this] { executor.stop(); });
    thread_.join();
  }
  // Returns once the loop has run everything posted so far (it is then waiting for work).
  void wait_idle() {
    std::promise<void> ran;
    executor.post([&] { ran.set_value(); });
    ran.get_future().wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // back in its wait
  }
  std::thread::id loop_thread() const { return thread_.get_id(); }
  // Hands `work` over until a hand-over runs on the calling thread, and runs it there; false if
  // none did. The loop thread may still be leaving its last handler: then the hand-over is
  // posted (and does nothing), and the next try finds it idle.
  bool hand_over_here(const std::function<void()>& work) {
    std::atomic<bool> here{false};
    for (int attempt = 0; attempt < 50 && !here; ++attempt) {
      wait_idle();
      executor.hand_over([&] {
        here = std::this_thread::get_id() != loop_thread();
        if (here) work();
      });
    }
    wait_idle();  // a posted try is done with `here`
    return here;
  }

  AsioExecutor executor;

 private:
  std::thread thread_;
};

TEST(AsioExecutor, AHandOverToAnIdleExecutorRunsOnTheCallingThreadWithWhatItPosts) {
  RunningExecutor running;
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  auto record = [&](int step) {
    order.push_back(step);
    threads.push_back(std::this_thread::get_id());
  };
  ASSERT_TRUE(running.hand_over_here([&] {
    record(1);
    running.executor.post([&] { record(2); });
    running.executor.post([&] { record(3); });
  }));
  // Done before hand_over returned, in the order posted, all on this thread.
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  for (auto id : threads) EXPECT_EQ(id, std::this_thread::get_id());
}

TEST(AsioExecutor, AHandOverWhileAHandlerRunsWaitsForTheLoopThread) {
  RunningExecutor running;
  std::promise<void> release;
  std::promise<void> blocked;
  running.executor.post([&] {
    blocked.set_value();
    release.get_future().wait();
  });
  blocked.get_future().wait();
  std::atomic<bool> ran{false};
  std::thread::id ran_on;
  std::promise<void> done;
  running.executor.hand_over([&] {
    ran_on = std::this_thread::get_id();
    ran = true;
    done.set_value();
  });
  EXPECT_FALSE(ran.load());  // posted: the executor is busy
  release.set_value();
  done.get_future().wait();
  EXPECT_EQ(ran_on, running.loop_thread());
}

TEST(AsioExecutor, HandOversNeverRunAlongsideTheExecutorsOwnHandlers) {
  RunningExecutor running;
  std::atomic<bool> inside{false};
  std::atomic<int> overlaps{0};
  int count = 0;  // plain: only ever touched by the executor's work, one piece at a time
  auto work = [&] {
    if (inside.exchange(true)) ++overlaps;
    ++count;
    std::this_thread::yield();  // widen the window another thread could overlap in
    inside = false;
  };
  constexpr int kPerThread = 3000;
  // The loop thread is kept busy too: timers and posts of its own, all the while.
  std::atomic<bool> stop_ticking{false};
  std::function<void()> tick = [&] {
    work();
    if (!stop_ticking) running.executor.after(Duration::zero(), tick);
  };
  running.executor.post([&] { running.executor.after(Duration::zero(), tick); });
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) running.executor.hand_over(work);
    });
  }
  for (auto& thread : threads) thread.join();
  stop_ticking = true;
  running.wait_idle();
  std::promise<int> total;
  running.executor.post([&] { total.set_value(count); });
  EXPECT_GE(total.get_future().get(), 3 * kPerThread);
  EXPECT_EQ(overlaps.load(), 0);
}

TEST(AsioExecutor, NoHandOverRunsOnTheCallingThreadOutsideTheLoop) {
  AsioExecutor executor;
  std::thread::id ran_on;
  std::thread([&] { executor.hand_over([&] { ran_on = std::this_thread::get_id(); }); }).join();
  EXPECT_EQ(ran_on, std::thread::id());  // posted: nobody runs the loop yet
  executor.run(/*keep_alive=*/false);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(AsioExecutor, RunUntilSeesAConditionAHandOverMadeTrue) {
  AsioExecutor executor;
  bool done = false;
  std::thread helper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    executor.hand_over([&] { done = true; });
  });
  // A guard: without the wake-up after the hand-over, the loop would wait for this timer.
  executor.after(seconds(5), [] {});
  const auto start = std::chrono::steady_clock::now();
  executor.run_until([&] { return done; });
  helper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
}

TEST(AsioExecutor, AHandOverRunsABoundedShareOfWhatItPostsAndTheLoopTheRest) {
  RunningExecutor running;
  std::vector<int> order;
  std::vector<bool> on_caller;
  std::promise<void> all;
  constexpr int kPosts = 200;
  std::function<void(int)> step = [&](int i) {
    order.push_back(i);
    on_caller.push_back(std::this_thread::get_id() != running.loop_thread());
    if (i + 1 < kPosts) {
      running.executor.post([&, i] { step(i + 1); });
    } else {
      all.set_value();
    }
  };
  ASSERT_TRUE(running.hand_over_here([&] { step(0); }));
  all.get_future().wait();
  ASSERT_EQ(order.size(), static_cast<std::size_t>(kPosts));
  for (int i = 0; i < kPosts; ++i) EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
  EXPECT_TRUE(on_caller.front());
  EXPECT_FALSE(on_caller.back());  // the caller let go; the loop thread finished the chain
}

}  // namespace
}  // namespace reliant
