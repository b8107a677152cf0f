// Promise<T>/Future<T>: a one-shot value handed to a waiting coroutine on its executor.
//
// The producer calls Promise::set (on the executor's thread; adapter threads post first). The
// first set wins; later ones are ignored, which is how a reply races a timeout. The waiter is
// always resumed from a fresh executor turn, never inside set(), so producers need not worry
// about re-entrancy. Destroying the Future (e.g. its frame was cancelled) withdraws the waiter.
#pragma once

#include <coroutine>
#include <memory>
#include <optional>
#include <utility>

#include "base/assert.h"
#include "runtime/executor.h"

namespace reliant {

namespace detail {
template <class T>
struct FutureState {
  explicit FutureState(Executor& e) : executor(e) {}
  Executor& executor;
  std::optional<T> value;
  std::coroutine_handle<> waiter;
};
}  // namespace detail

template <class T>
class Future {
 public:
  explicit Future(std::shared_ptr<detail::FutureState<T>> state) : state_(std::move(state)) {}
  Future(Future&&) noexcept = default;
  Future& operator=(Future&&) noexcept = default;
  ~Future() {
    if (state_) state_->waiter = {};
  }

  bool ready() const { return state_->value.has_value(); }

  bool await_ready() const noexcept { return state_->value.has_value(); }
  void await_suspend(std::coroutine_handle<> h) noexcept {
    RELIANT_ASSERT_MSG(!state_->waiter, "a Future has one waiter");
    state_->waiter = h;
  }
  T await_resume() {
    RELIANT_ASSERT(state_->value.has_value());
    return std::move(*state_->value);
  }

 private:
  std::shared_ptr<detail::FutureState<T>> state_;
};

template <class T>
class Promise {
 public:
  Promise() = default;
  explicit Promise(std::shared_ptr<detail::FutureState<T>> state) : state_(std::move(state)) {}

  // Returns false when a value was already set (the later value is dropped).
  bool set(T value) const {
    RELIANT_ASSERT(state_);
    if (state_->value.has_value()) return false;
    state_->value.emplace(std::move(value));
    if (state_->waiter) {
      state_->executor.post([state = state_] {
        if (auto h = std::exchange(state->waiter, {})) h.resume();
      });
    }
    return true;
  }
  bool is_set() const { return state_ && state_->value.has_value(); }
  // True while a Future still waits or could still read the value.
  bool valid() const { return static_cast<bool>(state_); }

 private:
  std::shared_ptr<detail::FutureState<T>> state_;
};

template <class T>
std::pair<Promise<T>, Future<T>> make_promise(Executor& executor) {
  auto state = std::make_shared<detail::FutureState<T>>(executor);
  return {Promise<T>(state), Future<T>(state)};
}

}  // namespace reliant
