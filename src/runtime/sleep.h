// sleep(): an awaitable pause on an executor's clock; destroying the waiting frame cancels it.
#pragma once

#include <coroutine>
#include <memory>

#include "base/time.h"
#include "runtime/executor.h"

namespace reliant {

class Sleep {
 public:
  Sleep(Executor& executor, Duration delay) : executor_(executor), delay_(delay) {}
  Sleep(const Sleep&) = delete;
  Sleep& operator=(const Sleep&) = delete;
  ~Sleep() {
    if (timer_ != 0) executor_.cancel(timer_);
  }

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    timer_ = executor_.after(delay_, [this, h] {
      timer_ = 0;
      h.resume();
    });
  }
  void await_resume() noexcept {}

 private:
  Executor& executor_;
  Duration delay_;
  TimerId timer_ = 0;
};

// `co_await sleep(executor, 5s);`
inline Sleep sleep(Executor& executor, Duration delay) { return Sleep(executor, delay); }

}  // namespace reliant
