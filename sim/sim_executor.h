// SimExecutor: one process incarnation's view of the world — its clock (virtual time plus the
// node's clock offset) and its events, tagged so they die with the incarnation.
#pragma once

#include "runtime/executor.h"
#include "sim/world.h"

namespace reliant::sim {

class SimExecutor final : public Executor {
 public:
  SimExecutor(World& world, NodeId node, Duration clock_offset = Duration::zero());

  Instant now() const override { return world_.now() + clock_offset_; }
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
  Duration clock_offset_;
};

}  // namespace reliant::sim
