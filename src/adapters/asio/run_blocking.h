// Runs one task to completion on a real executor: how one-shot CLI commands use the async ports.
#pragma once

#include <optional>
#include <utility>

#include "adapters/asio/asio_executor.h"
#include "runtime/scope.h"
#include "runtime/task.h"

namespace reliant {

namespace detail {
template <class T>
Task<void> run_and_stop(Task<T> task, std::optional<T>* out, AsioExecutor* executor) {
  T value = co_await task;
  out->emplace(std::move(value));
  executor->stop();
}
}  // namespace detail

template <class T>
T run_blocking(AsioExecutor& executor, Task<T> task) {
  std::optional<T> out;
  {
    Scope scope(executor);
    scope.spawn(detail::run_and_stop(std::move(task), &out, &executor));
    executor.run();
  }
  RELIANT_ASSERT(out.has_value());
  return std::move(*out);
}

}  // namespace reliant
