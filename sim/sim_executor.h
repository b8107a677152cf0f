// SimExecutor: one process incarnation's view of the world — its clock (its machine's NodeClock)
// and its events, tagged so they die with the incarnation. Timers run in virtual time: a skewed,
// drifting or stepped clock shows only in now(), and a drifting one in steady_now().
#pragma once

#include "runtime/executor.h"
#include "sim/node_clock.h"
#include "sim/world.h"

namespace reliant::sim {

class SimExecutor final : public Executor {
 public:
  // Without a clock: virtual time as it is.
  SimExecutor(World& world, NodeId node, const NodeClock* clock = nullptr);

  Instant now() const override {
    return clock_ != nullptr ? clock_->read(world_.now()) : world_.now();
  }
  SteadyInstant steady_now() const override {
    return clock_ != nullptr ? clock_->read_steady(world_.now()) : NodeClock::steady(world_.now());
  }
  void post(std::function<void()> fn) override;
  TimerId after(Duration delay, std::function<void()> fn) override;
  bool cancel(TimerId id) override { return world_.cancel(id); }

  NodeId node() const { return node_; }
  std::uint64_t incarnation() const { return incarnation_; }
  World& world() const { return world_; }

 private:
  World& world_;
  NodeId node_;
  std::uint64_t incarnation_;
  const NodeClock* clock_;
};

}  // namespace reliant::sim
