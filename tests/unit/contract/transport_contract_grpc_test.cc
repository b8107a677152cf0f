// The Transport contract on gRPC over loopback: a gateway-role transport listens, a daemon-role
// one dials, frames are the protocol's heartbeats (gRPC carries only well-formed frames).
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/grpc/grpc_transport.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "unit/contract/transport_contract.h"
#include "unit/support/real_loop.h"

namespace reliant::contract {
namespace {

class GrpcNet {
 public:
  GrpcNet() {
    gateway_ = make(GrpcRole::gateway);
    daemon_ = make(GrpcRole::daemon);
    // A port nothing listens on: bound by a listener that is then destroyed.
    auto listener = gateway_->listen("127.0.0.1:0", [](StreamPtr) {});
    EXPECT_TRUE(listener.has_value());
    if (listener) nobody_ = (*listener)->address();
  }
  ~GrpcNet() {
    scope_.reset();
    gateway_.reset();  // they cancel what is left, while the executor still exists
    daemon_.reset();
    run_for(milliseconds(20));
  }
  Transport& listening() { return *gateway_; }
  Transport& dialing() { return *daemon_; }
  std::string listen_address() { return "127.0.0.1:0"; }
  std::string dial_address(const Listener& listener) { return listener.address(); }
  std::string nobody_address() { return nobody_; }
  std::string dialer_frame(std::uint64_t n) {
    daemon::v1::DaemonFrame frame;
    frame.mutable_heartbeat()->set_sequence(n);
    return frame.SerializeAsString();
  }
  std::string acceptor_frame(std::uint64_t n) {
    daemon::v1::GatewayFrame frame;
    frame.mutable_heartbeat()->set_sequence(n);
    return frame.SerializeAsString();
  }
  // Both frames carry the heartbeat as field 3, so either parses as the other.
  std::uint64_t number_in(const std::string& bytes) {
    daemon::v1::DaemonFrame frame;
    EXPECT_TRUE(frame.ParseFromString(bytes));
    return frame.heartbeat().sequence();
  }
  Scope& scope() { return *scope_; }
  bool run_until(const std::function<bool()>& done, Duration limit) {
    return reliant::testing::run_until(
        executor_, done, std::chrono::duration_cast<std::chrono::milliseconds>(limit));
  }
  void run_for(Duration d) {
    reliant::testing::run_for(executor_, std::chrono::duration_cast<std::chrono::milliseconds>(d));
  }

 private:
  std::unique_ptr<GrpcTransport> make(GrpcRole role) {
    GrpcTransportOptions options;
    options.role = role;
    auto transport = GrpcTransport::create(executor_, std::move(options));
    EXPECT_TRUE(transport.has_value()) << transport.error().describe();
    return transport ? std::move(*transport) : nullptr;
  }

  AsioExecutor executor_;
  std::unique_ptr<Scope> scope_ = std::make_unique<Scope>(executor_);
  std::unique_ptr<GrpcTransport> gateway_;
  std::unique_ptr<GrpcTransport> daemon_;
  std::string nobody_;
};

using Grpc = ::testing::Types<GrpcNet>;
INSTANTIATE_TYPED_TEST_SUITE_P(Grpc, TransportContract, Grpc);

}  // namespace
}  // namespace reliant::contract
