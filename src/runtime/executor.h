// Executor: the one event loop a component lives on, and its clock (docs/architecture.md §4–§5).
#pragma once

#include <cstdint>
#include <functional>
#include <utility>

#include "base/time.h"

namespace reliant {

// Identifies a pending timer; 0 is never a valid id.
using TimerId = std::uint64_t;

class Executor {
 public:
  virtual ~Executor() = default;

  // The current time on this executor's clock. Real: wall clock. Simulated: virtual time plus
  // the node's clock offset. Non-decreasing between calls on the same executor.
  virtual Instant now() const = 0;

  // Runs `fn` later on this executor's thread, after everything already posted.
  // Real executors accept posts from any thread; this is how adapter threads hand results back.
  virtual void post(std::function<void()> fn) = 0;

  // From an adapter's thread: runs `fn` as this executor's next handler. A real executor that
  // is idle lets the calling thread run it at once — exclusively, as its handlers always run —
  // so the hand-over costs no thread wake-up; otherwise, and in the simulator, it is posted.
  // The caller must hold no lock that a handler may take.
  virtual void hand_over(std::function<void()> fn) { post(std::move(fn)); }

  // Runs `fn` once, `delay` from now (a negative delay counts as zero). Call only from this
  // executor's handlers. Returns a non-zero id for cancel().
  virtual TimerId after(Duration delay, std::function<void()> fn) = 0;

  // Cancels a pending timer. Returns false when it already ran, was cancelled or never existed.
  // Call only from this executor's handlers.
  virtual bool cancel(TimerId id) = 0;
};

}  // namespace reliant

namespace reliant {

// Cancels its timer when it goes out of scope: a coroutine cancelled while waiting leaves no
// timer behind.
class ScopedTimer {
 public:
  ScopedTimer(Executor& executor, TimerId id) : executor_(executor), id_(id) {}
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;
  ~ScopedTimer() { executor_.cancel(id_); }

 private:
  Executor& executor_;
  TimerId id_;
};

}  // namespace reliant
