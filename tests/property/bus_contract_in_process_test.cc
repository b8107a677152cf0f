// Runs the Bus contract suite against the monolith's bus: InProcessBroker + InProcessBus
// connections, all on one AsioExecutor driven by the test thread.
#include <memory>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "adapters/memory/in_process_bus.h"
#include "property/bus_contract.h"

namespace reliant::contract {
namespace {

class InProcessHarness final : public BusHarness {
 public:
  explicit InProcessHarness(std::uint64_t seed) : broker_(seed) {
    for (int i = 0; i < kConnections; ++i) {
      buses_.push_back(std::make_unique<InProcessBus>(broker_, executor_));
    }
  }

  Bus& connection(int i) override { return *buses_.at(static_cast<std::size_t>(i)); }
  Executor& executor(int) override { return executor_; }

  // Without a work guard run() returns once no handler or timer is left: everything posted has
  // run and every pending timer has fired.
  void settle() override { executor_.run(false); }

  // Real time: a marker timer bounds the wait, and run_one() returns early whenever a handler
  // ran, so this never blocks past `d` (plus scheduling noise).
  void run_for(Duration d) override {
    bool done = false;
    executor_.after(d, [&done] { done = true; });
    auto& context = executor_.context();
    context.restart();  // a previous run() that ran out of work left the context stopped
    while (!done) context.run_one();
  }

 private:
  AsioExecutor executor_;
  InProcessBroker broker_;
  std::vector<std::unique_ptr<InProcessBus>> buses_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(InProcess, BusContract, ::testing::Types<InProcessHarness>);

}  // namespace reliant::contract
