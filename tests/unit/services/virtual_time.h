// Running one task of a test to its end in the simulator's virtual time, bounded by a virtual
// hour so that a task that never ends fails the test instead of hanging it.
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "runtime/scope.h"
#include "runtime/task.h"
#include "sim/world.h"

namespace reliant::testing_support {

template <class T>
Task<void> capture_into(Task<T> task, std::optional<T>* out) {
  *out = co_await task;
}

template <class T>
T run_in_virtual_time(sim::World& world, Scope& scope, Task<T> task) {
  std::optional<T> out;
  scope.spawn(capture_into(std::move(task), &out));
  const Instant limit = world.now() + hours(1);
  while (!out && world.now() < limit && world.step()) {
  }
  EXPECT_TRUE(out.has_value()) << "the task never finished within a virtual hour";
  return std::move(*out);
}

}  // namespace reliant::testing_support
