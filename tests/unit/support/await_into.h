// Runs a task inside a scope and keeps its result: how a test spawns a Task<T> and reads what it
// returned once the executor has run it.
#pragma once

#include <optional>
#include <utility>

#include "runtime/task.h"

namespace reliant {

template <class T>
Task<void> await_into(Task<T> task, std::optional<T>* out) {
  T value = co_await task;
  *out = std::move(value);
}

}  // namespace reliant
