// SimProcess: one simulated OS process — start, crash, restart, pause — around a component
// built from ports, exactly as a real binary builds it from adapters.
//
// Each start is a new incarnation with fresh ports; a crash destroys the component (its Scope
// frees every task) and then its ports, and the world drops events still addressed to it.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "runtime/env.h"
#include "sim/sim_buggify.h"
#include "sim/sim_bus.h"
#include "sim/sim_executor.h"
#include "sim/sim_store.h"
#include "sim/sim_transport.h"

namespace reliant::sim {

// Builds the component of one incarnation. The returned object is the component: destroying it
// must stop everything it started.
using ComponentFactory = std::function<std::shared_ptr<void>(Env& env)>;

class SimProcess {
 public:
  // `database` may be null: the process then has no store; `buggify` too: no BUGGIFY sites fire
  // and no `sometimes` markers are counted.
  SimProcess(World& world, SimBroker& broker, SimStreams& streams, NodeId node,
             ComponentFactory factory, Duration clock_offset, SimDatabase* database = nullptr,
             SimBuggify* buggify = nullptr);
  ~SimProcess();

  void start();
  void crash();
  // The process ends on its own (a drained gateway exits 0): torn down as a crash is, counted
  // apart.
  void exit();
  void pause();
  void resume();
  // Held down: its platform stopped it (a suspended or removed pod). Stops it if it runs; the
  // fault plan's restarts and the heal start only processes that are not held, so whoever holds
  // one must release it to have it run again.
  void hold();
  void release() { held_ = false; }
  bool held() const { return held_; }
  // What the fault plan's restarts and the heal do: start it, unless it runs or is held down.
  void start_unless_held() {
    if (!running() && !held_) start();
  }

  bool running() const { return current_ != nullptr; }
  bool paused() const { return world_.paused(node_); }
  NodeId node() const { return node_; }
  const std::string& name() const { return world_.node_name(node_); }
  // How far its clock is ahead of virtual time now (negative: behind).
  Duration clock_offset() const { return clock_.offset(world_.now()); }
  NodeClock& clock() { return clock_; }
  std::uint32_t starts() const { return starts_; }
  std::uint32_t crashes() const { return crashes_; }

 private:
  struct Incarnation;

  World& world_;
  SimBroker& broker_;
  SimStreams& streams_;
  SimDatabase* database_;
  SimBuggify* buggify_;
  NodeId node_;
  ComponentFactory factory_;
  NodeClock clock_;
  std::unique_ptr<Incarnation> current_;
  std::uint32_t starts_ = 0;
  std::uint32_t crashes_ = 0;
  bool held_ = false;
};

}  // namespace reliant::sim
