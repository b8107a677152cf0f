// OneNode: one simulated process with a store (the real SQLite schema) and a bus, on a world of
// its own — for unit tests and fuzz targets that drive a component directly, without a scenario
// or faults.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/assert.h"
#include "runtime/env.h"
#include "runtime/scope.h"
#include "sim/network.h"
#include "sim/sim_bus.h"
#include "sim/sim_executor.h"
#include "sim/sim_store.h"
#include "sim/world.h"

namespace reliant::sim {

struct OneNode {
  OneNode(std::uint64_t world_seed, std::uint64_t random_seed, const std::string& name = "node",
          bool trace_events = true)
      : world(world_seed, trace_events), node(world.add_node(name)), random(random_seed) {}

  // Steps the world until `task` is done and returns its value; aborts if it never finishes.
  template <class T>
  T run(Task<T> task) {
    std::optional<T> out;
    scope->spawn(capture(std::move(task), &out));
    while (!out && world.step()) {
    }
    RELIANT_ASSERT_MSG(out.has_value(), "the task never finished");
    return std::move(*out);
  }
  void run(Task<void> task) { (void)run(finish(std::move(task))); }

  World world;
  Network network{milliseconds(0), milliseconds(0)};
  SimBroker broker{world, network};
  SimDatabase database{world, network};
  NodeId node;
  SimExecutor executor{world, node};
  SimBus bus{broker, executor};
  SimStore store{database, executor};
  Random random;
  Env env{executor, random, &bus, nullptr, &store, nullptr};
  std::unique_ptr<Scope> scope = std::make_unique<Scope>(executor);

 private:
  template <class T>
  static Task<void> capture(Task<T> task, std::optional<T>* out) {
    *out = co_await task;
  }
  static Task<bool> finish(Task<void> task) {
    co_await task;
    co_return true;
  }
};

}  // namespace reliant::sim
