// The Bus contract suite against a real nats-server (started by tools/nats_fixture.sh through
// CTest; its URL file named by RELIANT_NATS_URL_FILE): the nats.c adapter must behave exactly
// like the in-process and simulated buses.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "adapters/asio/asio_executor.h"
#include "adapters/nats/nats_bus.h"
#include "property/bus_contract.h"
#include "runtime/scope.h"
#include "unit/support/real_loop.h"

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
  static constexpr int kCasesMax = 25;
  static constexpr int kSettleRoundsMax = 50;
  static constexpr int kFlushAttemptsMax = 3;

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

  // Exact, not timed: flush every connection (the server has processed everything sent, and
  // each connection has read everything the server sent before the PONG), then run the executor
  // until no bus holds an unhandled message. Handlers may publish (a request starting), so
  // repeat until a round in which no connection read or published a message. (Not "until the
  // executor runs nothing": a flush's PONG always posts a turn, so that never comes.) Reads alone
  // are not enough: a flush's helper may read a request just after the round's count, and the
  // next round's handler then publishes the reply with nothing new read — the round looked quiet
  // while the reply was on its way (the contract failed so under ThreadSanitizer in CI).
  void settle() override {
    std::uint64_t traffic_before = traffic();
    for (int round = 0; round < kSettleRoundsMax; ++round) {
      for (int flushes = 0; flushes < 2; ++flushes) {
        // A flush that times out (a sanitized build on a loaded machine) is asked again: a
        // round that went on without it could end before the server's messages arrived.
        for (auto& bus : buses_) {
          for (int attempt = 0; attempt < kFlushAttemptsMax; ++attempt) {
            if (bus->flush(seconds(5))) break;
          }
        }
      }
      auto& context = executor_.context();
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      for (;;) {
        context.restart();
        context.poll();
        std::int64_t pending = 0;
        for (auto& bus : buses_) pending += bus->undelivered();
        if (pending == 0 || std::chrono::steady_clock::now() > give_up) break;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      const std::uint64_t traffic_now = traffic();
      if (round > 0 && traffic_now == traffic_before) return;
      traffic_before = traffic_now;
    }
  }

  void run_for(Duration d) override {
    bool done = false;
    executor_.after(d, [&done] { done = true; });
    executor_.run_until([&done] { return done; });
  }

 private:
  // Messages read and published, over every connection.
  std::uint64_t traffic() const {
    std::uint64_t total = 0;
    for (const auto& bus : buses_) {
      const NatsBus::MessageCounts counts = bus->counts();
      total += counts.received + counts.sent;
    }
    return total;
  }

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

// ---- a server of the test's own, to stop and start again ----

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::abort();
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

bool accepts_connections(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

class OwnNatsServer {
 public:
  explicit OwnNatsServer(int port) : port_(port) { start(); }
  ~OwnNatsServer() { kill(); }
  void start() {
    const std::string port = std::to_string(port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int quiet = ::open("/dev/null", O_WRONLY);
      ::dup2(quiet, STDOUT_FILENO);
      ::dup2(quiet, STDERR_FILENO);
      ::execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", port.c_str(), nullptr);
      ::_exit(127);
    }
    for (int i = 0; i < 500 && !accepts_connections(port_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  int port_;
  pid_t pid_ = -1;
};

// How long the restart test waits for each step (nats.c reconnects every 50 ms here).
constexpr std::chrono::milliseconds kPatience{10000};

Task<void> ask(Bus& bus, std::string subject, std::optional<Result<BusMessage>>* out) {
  Task<Result<BusMessage>> asking = bus.request(std::move(subject), "ping", seconds(5));
  *out = co_await asking;
}

// nats.c reconnects on its own thread and replays the subscriptions; the executor must take up
// the new socket: deliveries, publishes and request-reply go on as before the restart.
TEST(NatsBus, SubscriptionsAndRequestsSurviveAServerRestart) {
  const int port = free_port();
  OwnNatsServer server(port);
  const std::string url = "nats://127.0.0.1:" + std::to_string(port);
  AsioExecutor executor;
  auto subscriber = NatsBus::connect(executor, NatsOptions{url, "restart-sub", milliseconds(50)});
  auto publisher = NatsBus::connect(executor, NatsOptions{url, "restart-pub", milliseconds(50)});
  ASSERT_TRUE(subscriber.has_value() && publisher.has_value());
  NatsBus& sub = **subscriber;
  NatsBus& pub = **publisher;
  std::vector<std::string> got;
  auto feed = sub.subscribe("restart.>", [&got](const BusMessage& m) { got.push_back(m.data); });
  auto echo = sub.subscribe("restart-echo",
                            [&sub](const BusMessage& m) { (void)sub.publish(m.reply_to, "pong"); });
  ASSERT_TRUE(feed.has_value() && echo.has_value());
  ASSERT_TRUE(pub.publish("restart.a", "before").has_value());
  ASSERT_TRUE(reliant::testing::run_until(
      executor, [&] { return got.size() == 1; }, kPatience));

  server.kill();
  ASSERT_TRUE(reliant::testing::run_until(
      executor, [&] { return !sub.connected() && !pub.connected(); }, kPatience));
  server.start();
  ASSERT_TRUE(reliant::testing::run_until(
      executor, [&] { return sub.connected() && pub.connected(); }, kPatience))
      << "no reconnect within 10 s";
  ASSERT_TRUE(sub.flush(seconds(5)).has_value());  // its subscriptions are on the new server

  ASSERT_TRUE(pub.publish("restart.b", "after").has_value());
  ASSERT_TRUE(reliant::testing::run_until(
      executor, [&] { return got.size() == 2; }, kPatience))
      << "nothing after restart";
  EXPECT_EQ(got, (std::vector<std::string>{"before", "after"}));
  std::optional<Result<BusMessage>> reply;
  Scope scope(executor);
  scope.spawn(ask(pub, "restart-echo", &reply));
  ASSERT_TRUE(reliant::testing::run_until(
      executor, [&] { return reply.has_value(); }, kPatience));
  ASSERT_TRUE(reply->has_value()) << reply->error().message;
  EXPECT_EQ((*reply)->data, "pong");
}

// nats-server sends a request's no-responders status to a subscription of the requesting
// connection that matches the request's inbox — not always the request's own. With a wildcard
// subscription on that connection (`*.>` matches every inbox, not the one-token subject asked),
// each request must still fail at once, and the wildcard's handler must see no status.
TEST(NatsBus, NoRespondersReachesTheRequestPastAWildcardSubscriptionOfItsConnection) {
  AsioExecutor executor;
  auto bus = NatsBus::connect(executor, NatsOptions{nats_url(), "wildcard-requester"});
  ASSERT_TRUE(bus.has_value()) << bus.error().message;
  std::vector<BusMessage> seen;
  auto wildcard = (*bus)->subscribe("*.>", [&](const BusMessage& m) { seen.push_back(m); });
  ASSERT_TRUE(wildcard.has_value()) << wildcard.error().message;
  Scope scope(executor);
  for (int i = 0; i < 20; ++i) {
    std::optional<Result<BusMessage>> reply;
    scope.spawn(ask(**bus, "nobody" + std::to_string(i), &reply));
    ASSERT_TRUE(reliant::testing::run_until(
        executor, [&] { return reply.has_value(); }, seconds(2)))
        << "request " << i << " waited for its timeout";
    ASSERT_FALSE(reply->has_value());
    EXPECT_EQ(reply->error().code, ErrorCode::no_responders) << reply->error().message;
  }
  EXPECT_TRUE(seen.empty()) << seen.size() << " messages reached the wildcard, the first on "
                            << seen.front().subject;
}

// A request's inbox is kept for the next request once answered (NatsBus::ReplySlot). A second
// reply to an earlier request that reaches the inbox while a later request waits on it answers
// nothing: the later request gets its own reply.
TEST(NatsBus, ALateReplyToAnEarlierRequestDoesNotAnswerTheNextOnTheSameInbox) {
  AsioExecutor executor;
  auto requester = NatsBus::connect(executor, NatsOptions{nats_url(), "slot-requester"});
  auto responder = NatsBus::connect(executor, NatsOptions{nats_url(), "slot-responder"});
  ASSERT_TRUE(requester.has_value() && responder.has_value());
  NatsBus& answering = **responder;
  std::string first_inbox;
  auto first = answering.subscribe("slot.first", [&](const BusMessage& m) {
    first_inbox = m.reply_to;
    (void)answering.publish(m.reply_to, "first");
  });
  // Answers the second request only after a late, second reply to the first: both from one
  // connection, so the late one arrives first, while the second request waits.
  auto second = answering.subscribe("slot.second", [&](const BusMessage& m) {
    (void)answering.publish(first_inbox, "late reply to the first");
    (void)answering.publish(m.reply_to, "second");
  });
  ASSERT_TRUE(first.has_value() && second.has_value());
  Scope scope(executor);
  std::optional<Result<BusMessage>> reply;
  scope.spawn(ask(**requester, "slot.first", &reply));
  ASSERT_TRUE(reliant::testing::run_until(
      executor, [&] { return reply.has_value(); }, kPatience));
  ASSERT_TRUE(reply->has_value()) << reply->error().message;
  EXPECT_EQ((*reply)->data, "first");
  reply.reset();
  scope.spawn(ask(**requester, "slot.second", &reply));
  ASSERT_TRUE(reliant::testing::run_until(
      executor, [&] { return reply.has_value(); }, kPatience));
  ASSERT_TRUE(reply->has_value()) << reply->error().message;
  EXPECT_EQ((*reply)->data, "second");
  EXPECT_NE((*reply)->subject, first_inbox);
}

// Requests at once each wait on an inbox of their own, and each gets its own reply — also when
// more are in flight than the bus keeps idle inboxes for, and round after round on the kept ones.
TEST(NatsBus, ManyRequestsAtOnceEachGetTheirOwnReply) {
  AsioExecutor executor;
  auto requester = NatsBus::connect(executor, NatsOptions{nats_url(), "many-requester"});
  auto responder = NatsBus::connect(executor, NatsOptions{nats_url(), "many-responder"});
  ASSERT_TRUE(requester.has_value() && responder.has_value());
  NatsBus& answering = **responder;
  auto echo = answering.subscribe("many.echo", [&](const BusMessage& m) {
    (void)answering.publish(m.reply_to, "re:" + m.data);
  });
  ASSERT_TRUE(echo.has_value());
  constexpr int kAtOnce = 100;
  Scope scope(executor);
  for (int round = 0; round < 3; ++round) {
    std::vector<std::optional<Result<BusMessage>>> replies(kAtOnce);
    for (int i = 0; i < kAtOnce; ++i) {
      scope.spawn(
          [](Bus& bus, std::string data, std::optional<Result<BusMessage>>* out) -> Task<void> {
            Task<Result<BusMessage>> asking = bus.request("many.echo", std::move(data), seconds(5));
            *out = co_await asking;
          }(**requester, std::to_string(round) + "/" + std::to_string(i), &replies[i]));
    }
    ASSERT_TRUE(reliant::testing::run_until(
        executor,
        [&] {
          for (const auto& r : replies)
            if (!r) return false;
          return true;
        },
        kPatience));
    for (int i = 0; i < kAtOnce; ++i) {
      ASSERT_TRUE(replies[i]->has_value()) << i << ": " << replies[i]->error().message;
      EXPECT_EQ((*replies[i])->data, "re:" + std::to_string(round) + "/" + std::to_string(i));
    }
  }
}

// A subscription destroyed on the executor's thread just as the flush helper reads the socket
// (for a few milliseconds after a flush returns, the helper still waits on it): nats.c looks a
// message's subscription up without holding a reference, so an unsubscribe must never overlap a
// read. The bus contract once crashed so in CI. Each round subscribes (a flush), has another
// connection publish to it and unsubscribes at once; under AddressSanitizer a use-after-free is
// reported even when it does not crash. Afterwards the connection still delivers.
TEST(NatsBus, UnsubscribingWhileTheFlushHelperReadsIsSafe) {
  AsioExecutor executor;
  auto subscriber = NatsBus::connect(executor, NatsOptions{nats_url(), "churn-subscriber"});
  ASSERT_TRUE(subscriber.has_value()) << subscriber.error().message;
  AsioExecutor publisher_executor;
  auto publisher = NatsBus::connect(publisher_executor, NatsOptions{nats_url(), "churn-publisher"});
  ASSERT_TRUE(publisher.has_value()) << publisher.error().message;

  constexpr int kRounds = 1000;
  constexpr int kMessagesPerRound = 8;
  for (int round = 0; round < kRounds; ++round) {
    auto churned = (*subscriber)->subscribe("churn.subject", [](const BusMessage&) {});
    ASSERT_TRUE(churned.has_value()) << churned.error().message;
    for (int i = 0; i < kMessagesPerRound; ++i) {
      ASSERT_TRUE((*publisher)->publish("churn.subject", "x").has_value());
    }
    std::this_thread::sleep_for(std::chrono::microseconds(round % 200));
    churned->reset();
    executor.context().restart();
    executor.context().poll();
  }

  int handled = 0;
  auto last = (*subscriber)->subscribe("churn.last", [&](const BusMessage&) { ++handled; });
  ASSERT_TRUE(last.has_value()) << last.error().message;
  ASSERT_TRUE((*publisher)->publish("churn.last", "y").has_value());
  EXPECT_TRUE(reliant::testing::run_until(
      executor, [&] { return handled == 1; }, seconds(5)));
}

// Publishes on the executor's thread while another thread flushes: the flush helper writes too.
// nats.c, asked to write with nothing buffered, sends zero bytes, takes that for a closed
// connection and reconnects (losing what was in flight), so only one of the two writers may see
// nats.c's write interest before writing. The bus contract lost replies so in CI, under
// ThreadSanitizer, about once in many runs; here the two writers meet thousands of times.
TEST(NatsBus, PublishingWhileAnotherThreadFlushesKeepsTheConnection) {
  AsioExecutor executor;
  auto bus = NatsBus::connect(executor, NatsOptions{nats_url(), "publish-while-flushing"});
  ASSERT_TRUE(bus.has_value()) << bus.error().message;
  std::atomic<bool> done{false};
  std::thread flusher([&] {
    while (!done.load()) (void)(*bus)->flush(seconds(5));
  });
  constexpr int kPublishes = 20000;
  for (int i = 0; i < kPublishes; ++i) {
    ASSERT_TRUE((*bus)->publish("flush.race", "x").has_value());
    if (i % 64 == 0) std::this_thread::yield();
  }
  done = true;
  flusher.join();
  ASSERT_TRUE((*bus)->flush(seconds(5)).has_value());
  const NatsBus::MessageCounts counts = (*bus)->counts();
  EXPECT_EQ(counts.reconnects, 0U) << "a write with nothing to send dropped the connection";
  EXPECT_EQ(counts.sent, static_cast<std::uint64_t>(kPublishes));
}

}  // namespace reliant::contract
