// Driving a real AsioExecutor from a test: run it until a condition holds (with a wall-clock
// limit, checked every few milliseconds), for a while, or while a client call runs on a thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <future>

#include "adapters/asio/asio_executor.h"

namespace reliant::testing {

// Returns whether `done` held before `limit` passed.
inline bool run_until(AsioExecutor& executor, const std::function<bool()>& done,
                      std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  bool expired = false;
  TimerId timer = 0;
  std::function<void()> tick = [&] {
    if (std::chrono::steady_clock::now() >= deadline) {
      expired = true;
    } else {
      timer = executor.after(milliseconds(2), tick);
    }
  };
  timer = executor.after(milliseconds(2), tick);
  executor.run_until([&] { return expired || done(); });
  executor.cancel(timer);
  return done();
}

inline void run_for(AsioExecutor& executor, std::chrono::milliseconds duration) {
  run_until(
      executor, [] { return false; }, duration);
}

// Runs `client` (blocking calls) on a thread of its own while the executor runs here.
template <class F>
auto call_on_thread(AsioExecutor& executor, F client, std::chrono::milliseconds limit)
    -> decltype(client()) {
  auto result = std::async(std::launch::async, std::move(client));
  EXPECT_TRUE(run_until(
      executor,
      [&] { return result.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }, limit))
      << "the client call never returned";
  return result.get();
}

}  // namespace reliant::testing
