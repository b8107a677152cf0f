// Scope: owns the root tasks of one component. Destroying it cancels and frees them all.
//
// This is how a component stops (and how the simulator crashes a process): the component's
// Scope goes, every suspended frame is destroyed, and each pending awaitable withdraws its
// callback in its destructor, so nothing ever resumes a dead frame.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>

#include "runtime/executor.h"
#include "runtime/task.h"

namespace reliant {

class Scope {
 public:
  explicit Scope(Executor& executor);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

  // Takes ownership of `task` and starts it on the executor's next turn. A task that ends with
  // an exception is a bug: the process aborts with the exception's message.
  void spawn(Task<void> task);

  // Tasks spawned and not yet finished.
  std::size_t live_tasks() const { return tasks_.size(); }
  // True while the scope is being destroyed: nothing may be spawned into it any more.
  bool closing() const { return tearing_down_; }
  Executor& executor() const { return executor_; }

 private:
  friend void detail::root_task_finished(Scope*, std::uint64_t, std::exception_ptr) noexcept;
  void start(std::uint64_t id);
  void finished(std::uint64_t id, std::exception_ptr error) noexcept;

  Executor& executor_;
  std::map<std::uint64_t, std::coroutine_handle<>> tasks_;  // ordered: deterministic teardown
  std::uint64_t next_id_ = 1;
  bool tearing_down_ = false;
  // Posted start callbacks hold a weak reference, so a start queued before the scope died is
  // a no-op instead of a use-after-free.
  std::shared_ptr<Scope*> self_;
};

}  // namespace reliant
