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

  // Wall-clock time: what stored and sent timestamps carry, and what times shared through the
  // database are compared with. It may step in either direction (NTP, an operator, a VM
  // resumed), so never measure an interval or a local deadline on it: use steady_now().
  // Real: the system clock. Simulated: virtual time plus the node's skew, drift and steps.
  virtual Instant now() const = 0;

  // Monotonic time: for intervals, deadlines and staleness within this process. Never
  // decreases; it may run slightly fast or slow (drift) but never steps. Real: the steady
  // clock. Simulated: virtual time plus the node's drift.
  virtual SteadyInstant steady_now() const = 0;

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
