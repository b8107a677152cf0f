// Executor: the one event loop a component lives on, and its clock (DESIGN.md §3–§4).
#pragma once

#include <cstdint>
#include <functional>

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

  // Runs `fn` once, `delay` from now (a negative delay counts as zero). Call only on the
  // executor's thread. Returns a non-zero id for cancel().
  virtual TimerId after(Duration delay, std::function<void()> fn) = 0;

  // Cancels a pending timer. Returns false when it already ran, was cancelled or never existed.
  // Call only on the executor's thread.
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
