// Runs the Bus contract suite against the simulated bus: one SimBroker, each connection on its
// own simulated node, 1-5 ms network latency and no faults.
#include <memory>
#include <string>
#include <vector>

#include "property/bus_contract.h"
#include "sim/network.h"
#include "sim/sim_bus.h"
#include "sim/sim_executor.h"
#include "sim/world.h"

namespace reliant::contract {
namespace {

class SimHarness final : public BusHarness {
 public:
  explicit SimHarness(std::uint64_t seed)
      : world_(seed, /*trace_events=*/false),
        network_(milliseconds(1), milliseconds(5)),
        broker_(world_, network_) {
    for (int i = 0; i < kConnections; ++i) {
      const sim::NodeId node = world_.add_node("conn" + std::to_string(i));
      executors_.push_back(std::make_unique<sim::SimExecutor>(world_, node));
      buses_.push_back(std::make_unique<sim::SimBus>(broker_, *executors_.back()));
    }
  }

  Bus& connection(int i) override { return *buses_.at(static_cast<std::size_t>(i)); }
  Executor& executor(int i) override { return *executors_.at(static_cast<std::size_t>(i)); }

  // Runs the queue dry, like an io_context without a work guard. The bound turns a livelock
  // (something rescheduling itself forever) into a failure instead of a hang.
  void settle() override {
    for (int steps = 0; world_.step(); ++steps) {
      if (steps > kSettleStepsMax) RC_FAIL("the simulated world never went idle");
    }
  }

  void run_for(Duration d) override { world_.run_until(world_.now() + d); }

 private:
  static constexpr int kSettleStepsMax = 1'000'000;

  sim::World world_;
  sim::Network network_;
  sim::SimBroker broker_;
  std::vector<std::unique_ptr<sim::SimExecutor>> executors_;
  std::vector<std::unique_ptr<sim::SimBus>> buses_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Sim, BusContract, ::testing::Types<SimHarness>);

}  // namespace reliant::contract
