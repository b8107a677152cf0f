// The Host contract on the simulator's in-memory host.
#include "sim/sim_executor.h"
#include "sim/sim_host.h"
#include "unit/contract/host_contract.h"

namespace reliant::contract {
namespace {

class SimMachine {
 public:
  std::string work_dir() const { return "/home/dev/work"; }
  Host& host() { return host_; }
  Executor& executor() { return executor_; }
  std::unique_ptr<Host> confined_host() {
    return std::make_unique<sim::SimHost>(executor_, work_dir() + "/inside",
                                          std::vector<std::string>{work_dir() + "/inside"});
  }
  std::unique_ptr<Host> private_host() {
    auto host = std::make_unique<sim::SimHost>(executor_, work_dir() + "/inside",
                                               std::vector<std::string>{work_dir() + "/inside"});
    host->put_file(work_dir() + "/inside/data/auth/token", "s3cret");
    host->exclude(work_dir() + "/inside/data");
    return host;
  }
  template <class T>
  T wait(Task<T> task) {
    std::optional<T> out;
    scope_.spawn(await_into(std::move(task), &out));
    while (!out && world_.step()) {
    }
    EXPECT_TRUE(out.has_value());
    return std::move(*out);
  }
  void run_for(Duration d) { world_.run_until(world_.now() + d); }

 private:
  sim::World world_{17};
  sim::NodeId node_ = world_.add_node("machine");
  sim::SimExecutor executor_{world_, node_};
  sim::SimHost host_{executor_, work_dir()};
  Scope scope_{executor_};  // last: its tasks go before the host they use
};

using SimMachines = ::testing::Types<SimMachine>;
INSTANTIATE_TYPED_TEST_SUITE_P(Sim, HostContract, SimMachines);

}  // namespace
}  // namespace reliant::contract
