// The Bus contract suite against a real nats-server (started by tools/nats_fixture.sh through
// CTest; its URL file named by RELIANT_NATS_URL_FILE): the nats.c adapter must behave exactly
// like the in-process and simulated buses.
#include <cstdlib>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "adapters/nats/nats_bus.h"
#include "property/bus_contract.h"

namespace reliant::contract {
namespace {

std::string nats_url() {
  const char* file = std::getenv("RELIANT_NATS_URL_FILE");
  if (file == nullptr) return {};
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  return url;
}

class NatsHarness final : public BusHarness {
 public:
  // Real sockets and a real server: fewer generated cases than the in-memory buses.
  static constexpr int kMaxCases = 25;

  explicit NatsHarness(std::uint64_t) {
    const std::string url = nats_url();
    if (url.empty()) {
      ADD_FAILURE() << "RELIANT_NATS_URL_FILE is not set: run through ctest, whose fixture starts "
                       "nats-server";
      std::abort();
    }
    for (int i = 0; i < kConnections; ++i) {
      auto bus = NatsBus::connect(executor_, NatsOptions{url, "contract-" + std::to_string(i)});
      if (!bus) {
        ADD_FAILURE() << bus.error().message;
        std::abort();
      }
      buses_.push_back(std::move(*bus));
    }
  }

  Bus& connection(int i) override { return *buses_.at(static_cast<std::size_t>(i)); }
  Executor& executor(int) override { return executor_; }

  // Everything published has reached the server once each connection's flush returns; the
  // server's deliveries then arrive on the subscribers' sockets, and a second round of flushes
  // (a PING behind them on every connection) makes sure nats.c has read them. What remains is
  // handing them to the executor: run it until it has been idle for a while.
  // Exact, not timed: flush every connection (the server has processed everything sent, and
  // each connection has read everything the server sent before the PONG), then run the executor
  // until no bus holds an unhandled message. Handlers may publish (a request starting), so
  // repeat until a round handles nothing.
  void settle() override {
    for (int round = 0; round < 50; ++round) {
      for (int flushes = 0; flushes < 2; ++flushes) {
        for (auto& bus : buses_) (void)bus->flush(seconds(5));
      }
      std::size_t ran = 0;
      auto& context = executor_.context();
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      for (;;) {
        context.restart();
        ran += context.poll();
        std::int64_t pending = 0;
        for (auto& bus : buses_) pending += bus->undelivered();
        if (pending == 0 || std::chrono::steady_clock::now() > give_up) break;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      if (ran == 0) return;
    }
  }

  void run_for(Duration d) override {
    bool done = false;
    executor_.after(d, [&done] { done = true; });
    executor_.run_until([&done] { return done; });
  }

 private:
  AsioExecutor executor_;
  std::vector<std::unique_ptr<NatsBus>> buses_;
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(Nats, BusContract, ::testing::Types<NatsHarness>);

// Beyond the shared contract: what only a real server can show.
TEST(NatsBus, ABadUrlOrNoServerIsAPreciseError) {
  AsioExecutor executor;
  auto refused =
      NatsBus::connect(executor, NatsOptions{"nats://127.0.0.1:1", "t", milliseconds(10), 0});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::unavailable);
  EXPECT_NE(refused.error().message.find("cannot connect to NATS at nats://127.0.0.1:1"),
            std::string::npos)
      << refused.error().message;
  auto empty = NatsBus::connect(executor, NatsOptions{"", "t"});
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code, ErrorCode::invalid_argument);
}

}  // namespace reliant::contract
