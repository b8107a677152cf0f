// Wakeup: a wait of at most a while that code on the same executor can end early — a loop that
// polls on an interval but acts at once when told there is something to do (the worker's wait
// for work, the control plane's wait for its next round, a gateway's backoff before it dials a
// managed daemon again).
#pragma once

#include <optional>

#include "base/time.h"
#include "runtime/executor.h"
#include "runtime/future.h"
#include "runtime/task.h"

namespace reliant {

class Wakeup {
 public:
  explicit Wakeup(Executor& executor) : executor_(executor) {}
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  // Ends the wait in progress; with none, the next wait returns at once. Until clear().
  void wake() {
    woken_ = true;
    if (waiter_) waiter_->set(true);
  }
  bool woken() const { return woken_; }
  void clear() { woken_ = false; }

  // Up to `timeout`, or until wake() (at once when woken already).
  Task<void> wait(Duration timeout) {
    if (woken_) co_return;
    auto [promise, future] = make_promise<bool>(executor_);
    waiter_ = promise;
    ScopedTimer timer(executor_,
                      executor_.after(timeout, [promise = promise] { promise.set(false); }));
    (void)co_await future;
    waiter_.reset();
  }

 private:
  Executor& executor_;
  bool woken_ = false;
  std::optional<Promise<bool>> waiter_;  // set while a wait is in progress
};

}  // namespace reliant
