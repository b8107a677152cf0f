// Posts and timers become world events for this node's current incarnation.
#include "sim/sim_executor.h"

namespace reliant::sim {

SimExecutor::SimExecutor(World& world, NodeId node, const NodeClock* clock)
    : world_(world), node_(node), incarnation_(world.incarnation(node)), clock_(clock) {}

void SimExecutor::post(std::function<void()> fn) {
  world_.schedule(world_.now(), node_, incarnation_, "post", 0, std::move(fn));
}

TimerId SimExecutor::after(Duration delay, std::function<void()> fn) {
  return world_.schedule(world_.now() + std::max(delay, Duration::zero()), node_, incarnation_,
                         "timer", 0, std::move(fn));
}

}  // namespace reliant::sim
