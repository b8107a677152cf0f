// The Transport contract on the simulator's streams (latency, no faults).
#include <string>

#include "sim/sim_transport.h"
#include "unit/contract/transport_contract.h"

namespace reliant::contract {
namespace {

class SimNet {
 public:
  Transport& listening() { return server_; }
  Transport& dialing() { return client_; }
  std::string listen_address() { return "server:7000"; }
  std::string dial_address(const Listener& listener) { return listener.address(); }
  std::string nobody_address() { return "server:7999"; }
  std::string dialer_frame(std::uint64_t n) { return "up " + std::to_string(n); }
  std::string acceptor_frame(std::uint64_t n) { return "down " + std::to_string(n); }
  std::uint64_t number_in(const std::string& frame) {
    return std::stoull(frame.substr(frame.find(' ') + 1));
  }
  Scope& scope() { return scope_; }
  bool run_until(const std::function<bool()>& done, Duration limit) {
    const Instant deadline = world_.now() + limit;
    while (!done() && world_.now() < deadline && world_.step()) {
    }
    return done();
  }
  void run_for(Duration d) { world_.run_until(world_.now() + d); }

 private:
  sim::World world_{5};
  sim::Network network_{milliseconds(1), milliseconds(5)};
  sim::SimStreams streams_{world_, network_};
  sim::NodeId server_node_ = world_.add_node("server");
  sim::NodeId client_node_ = world_.add_node("client");
  sim::SimExecutor server_executor_{world_, server_node_};
  sim::SimExecutor client_executor_{world_, client_node_};
  sim::SimTransport server_{streams_, server_executor_};
  sim::SimTransport client_{streams_, client_executor_};
  Scope scope_{client_executor_};  // last: its tasks go before the transports they use
};

using SimNets = ::testing::Types<SimNet>;
INSTANTIATE_TYPED_TEST_SUITE_P(Sim, TransportContract, SimNets);

}  // namespace
}  // namespace reliant::contract
