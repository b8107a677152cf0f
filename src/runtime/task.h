// Task<T>: a lazily started C++20 coroutine, awaited by a parent task or owned by a Scope.
//
// A Task does nothing until awaited (or spawned into a Scope). Awaiting transfers control
// symmetrically, so chains of tasks use no extra stack. Destroying a suspended Task destroys its
// frame and, through the frame's locals, every child task and pending awaitable: that is how
// cancellation works (an awaitable must withdraw its callbacks in its destructor).
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <utility>

#include "base/assert.h"

namespace reliant {

class Scope;

namespace detail {

struct PromiseBase {
  std::coroutine_handle<> continuation;
  std::exception_ptr exception;
  Scope* scope = nullptr;  // set only for tasks spawned into a Scope (root tasks)
  std::uint64_t scope_id = 0;

  std::suspend_always initial_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { exception = std::current_exception(); }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> self) noexcept;
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
};

// Defined in scope.cc: a root task finished; its scope destroys the frame.
void root_task_finished(Scope* scope, std::uint64_t id, std::exception_ptr error) noexcept;

template <class P>
std::coroutine_handle<> PromiseBase::FinalAwaiter::await_suspend(
    std::coroutine_handle<P> self) noexcept {
  PromiseBase& p = self.promise();
  if (p.continuation) return p.continuation;
  if (p.scope != nullptr) root_task_finished(p.scope, p.scope_id, p.exception);  // frees self
  return std::noop_coroutine();
}

}  // namespace detail

template <class T = void>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::PromiseBase {
    std::optional<T> value;
    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    template <class U>
    void return_value(U&& v) {
      value.emplace(std::forward<U>(v));
    }
  };
  using Handle = std::coroutine_handle<promise_type>;

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
    RELIANT_ASSERT(handle_ && !handle_.done());
    handle_.promise().continuation = parent;
    return handle_;
  }
  T await_resume() {
    auto& p = handle_.promise();
    if (p.exception) std::rethrow_exception(p.exception);
    RELIANT_ASSERT(p.value.has_value());
    return std::move(*p.value);
  }

  // For Scope: gives up ownership of the frame.
  Handle release() noexcept { return std::exchange(handle_, {}); }

 private:
  explicit Task(Handle h) : handle_(h) {}
  void reset() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  Handle handle_;
};

template <>
class [[nodiscard]] Task<void> {
 public:
  struct promise_type : detail::PromiseBase {
    Task get_return_object() {
      return Task(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    void return_void() noexcept {}
  };
  using Handle = std::coroutine_handle<promise_type>;

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() { reset(); }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
    RELIANT_ASSERT(handle_ && !handle_.done());
    handle_.promise().continuation = parent;
    return handle_;
  }
  void await_resume() {
    if (handle_.promise().exception) std::rethrow_exception(handle_.promise().exception);
  }

  Handle release() noexcept { return std::exchange(handle_, {}); }

 private:
  explicit Task(Handle h) : handle_(h) {}
  void reset() noexcept {
    if (handle_) handle_.destroy();
    handle_ = {};
  }
  Handle handle_;
};

}  // namespace reliant
