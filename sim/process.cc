// Process lifecycle: incarnations own their ports; the component dies before its ports do.
#include "sim/process.h"

#include "base/assert.h"
#include "sim/sim_log.h"

namespace reliant::sim {

struct SimProcess::Incarnation {
  Incarnation(World& world, SimBroker& broker, SimStreams& streams, SimDatabase* database,
              SimBuggify* run_buggify, NodeId node, const NodeClock* clock)
      : executor(world, node, clock),
        random(world.random().split(world.node_name(node) + "#" +
                                    std::to_string(world.incarnation(node)))),
        bus(broker, executor),
        transport(streams, executor),
        log(world, node),
        env{executor, random, &bus, &transport, nullptr, nullptr, &log} {
    if (database != nullptr) {
      store.emplace(*database, executor);
      env.store = &*store;
    }
    if (run_buggify != nullptr) {
      buggify.emplace(*run_buggify, node);
      env.buggify = &*buggify;
    }
  }

  // Declaration order is teardown order reversed: the component goes first.
  SimExecutor executor;
  Random random;
  SimBus bus;
  SimTransport transport;
  SimLog log;
  std::optional<SimStore> store;
  std::optional<NodeBuggify> buggify;
  Env env;
  std::shared_ptr<void> component;
};

SimProcess::SimProcess(World& world, SimBroker& broker, SimStreams& streams, NodeId node,
                       ComponentFactory factory, Duration clock_offset, SimDatabase* database,
                       SimBuggify* buggify)
    : world_(world),
      broker_(broker),
      streams_(streams),
      database_(database),
      buggify_(buggify),
      node_(node),
      factory_(std::move(factory)),
      clock_(clock_offset) {}

SimProcess::~SimProcess() {
  if (current_) {
    world_.next_incarnation(node_);
    current_.reset();
  }
}

void SimProcess::start() {
  RELIANT_ASSERT_MSG(!current_, "start of a running process");
  ++starts_;
  world_.trace().record(world_.now(), node_, "proc.start", starts_);
  current_ =
      std::make_unique<Incarnation>(world_, broker_, streams_, database_, buggify_, node_, &clock_);
  current_->component = factory_(current_->env);
}

void SimProcess::crash() {
  if (!current_) return;
  ++crashes_;
  world_.trace().record(world_.now(), node_, "proc.crash", crashes_);
  // New incarnation first: whatever the teardown schedules for the old one is dropped.
  world_.next_incarnation(node_);
  current_.reset();
}

void SimProcess::exit() {
  if (!current_) return;
  world_.trace().record(world_.now(), node_, "proc.exit", starts_);
  world_.next_incarnation(node_);
  current_.reset();
}

void SimProcess::hold() {
  held_ = true;
  if (!current_) return;
  // A stop, not a crash: counted apart, torn down the same way (a pod's container is killed).
  world_.trace().record(world_.now(), node_, "proc.stop", starts_);
  world_.next_incarnation(node_);
  current_.reset();
}

void SimProcess::pause() {
  if (!current_ || paused()) return;
  world_.trace().record(world_.now(), node_, "proc.pause", 0);
  world_.set_paused(node_, true);
}

void SimProcess::resume() {
  if (!current_ || !paused()) return;
  world_.trace().record(world_.now(), node_, "proc.resume", 0);
  world_.set_paused(node_, false);
}

}  // namespace reliant::sim
