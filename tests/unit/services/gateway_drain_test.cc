// A gateway that drains (begin_drain: asked to stop in a rolling update), in a simulated world
// with a second gateway, a real Daemon that knows both, and a bus router: the call in flight is
// answered once, through the gateway that had it, before the daemon is sent away; the daemon
// registers with the other gateway at once, not after its backoff; calls made meanwhile run once
// on the next gateway; a drain that times out sends the daemon away anyway and its call is still
// answered once; a draining gateway refuses new streams; and a daemon whose every gateway is
// going away falls back to its backoff after one round.
#include <gtest/gtest.h>

#include <array>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/personal_access_token.h"
#include "protocol/codec.h"
#include "protocol/daemon_wire.h"
#include "runtime/scope.h"
#include "services/daemon/daemon.h"
#include "services/gateway/gateway.h"
#include "services/routing/bus_daemon_router.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/migrator.h"
#include "sim/sim_bus.h"
#include "sim/sim_host.h"
#include "sim/sim_store.h"
#include "sim/sim_transport.h"
#include "unit/support/test_tasks.h"
#include "unit/support/token_of.h"

namespace reliant::gateway {
namespace {

namespace sim = reliant::sim;
using daemon::Daemon;

Task<void> durable_call(routing::DaemonRouter* router, routing::ToolCall call,
                        std::optional<Result<v1::ToolResponse>>* out) {
  Task<Result<v1::ToolResponse>> pending = router->send_tool_request(std::move(call));
  *out = co_await pending;
}

Task<void> sync_call(routing::DaemonRouter* router, routing::ToolCall call,
                     std::optional<Result<v1::ToolResponse>>* out) {
  Task<Result<v1::ToolResponse>> pending = router->send_tool_request_sync(std::move(call));
  *out = co_await pending;
}

Task<void> dial_into(Transport* transport, std::string address, std::string token,
                     std::optional<Result<StreamPtr>>* out) {
  Task<Result<StreamPtr>> dialing =
      transport->dial(address, Metadata{{"authorization", "Bearer " + token}}, seconds(5));
  *out = co_await dialing;
}

class TokenCredentials final : public daemon::CredentialStore {
 public:
  explicit TokenCredentials(std::string token) : token_(std::move(token)) {}
  std::optional<std::string> token() const override { return token_; }
  void discard_token() override { ADD_FAILURE() << "the daemon's token was refused"; }
  Task<Result<std::string>> reregister() override {
    co_return fail(ErrorCode::failed_precondition, "no login");
  }
  std::string daemon_id() const override { return daemon_id_; }
  void save_daemon_id(const std::string& id) override { daemon_id_ = id; }
  std::uint64_t next_registration_seq(Instant now) override {
    seq_ = daemon::registration_seq_after(seq_, now);
    return seq_;
  }

 private:
  std::string token_;
  std::string daemon_id_;
  std::uint64_t seq_ = 0;
};

// What the daemon went through, in virtual time.
struct Observer final : daemon::DaemonObserver {
  explicit Observer(sim::World& world) : world(world) {}
  void on_registered(const std::string&, const std::string& gateway) override {
    registrations.emplace_back(world.now(), gateway);
  }
  void on_gateway_leaving(const std::string& gateway) override {
    leavings.emplace_back(world.now(), gateway);
  }
  void on_execute(const v1::ToolRequest& request) override { ++executions[request.request_id()]; }
  sim::World& world;
  std::vector<std::pair<Instant, std::string>> registrations;
  std::vector<std::pair<Instant, std::string>> leavings;
  std::map<std::string, int> executions;
};

const std::string kAddresses[2] = {"gw-1:9190", "gw-2:9190"};

struct DrainWorld {
  sim::World world{21};
  sim::Network network{milliseconds(1), milliseconds(2)};
  sim::SimBroker broker{world, network};
  sim::SimStreams streams{world, network};
  sim::SimDatabase database{world, network};
  sim::NodeId gw_nodes[2] = {world.add_node("gw-1"), world.add_node("gw-2")};
  sim::NodeId daemon_node = world.add_node("laptop");
  sim::NodeId worker_node = world.add_node("worker");
  sim::SimExecutor gw_exec[2] = {{world, gw_nodes[0]}, {world, gw_nodes[1]}};
  sim::SimExecutor daemon_exec{world, daemon_node};
  sim::SimExecutor worker_exec{world, worker_node};
  sim::SimBus gw_bus[2] = {{broker, gw_exec[0]}, {broker, gw_exec[1]}};
  sim::SimBus worker_bus{broker, worker_exec};
  sim::SimTransport gw_transport[2] = {{streams, gw_exec[0]}, {streams, gw_exec[1]}};
  sim::SimTransport daemon_transport{streams, daemon_exec};
  sim::SimStore gw_store[2] = {{database, gw_exec[0]}, {database, gw_exec[1]}};
  sim::SimStore worker_store{database, worker_exec};
  sim::SimHost host{daemon_exec, "/home/alice"};
  Random random{5};
  Env gw_env[2] = {{gw_exec[0], random, &gw_bus[0], &gw_transport[0], &gw_store[0], nullptr},
                   {gw_exec[1], random, &gw_bus[1], &gw_transport[1], &gw_store[1], nullptr}};
  Env daemon_env{daemon_exec, random, nullptr, &daemon_transport, nullptr, &host};
  Env worker_env{worker_exec, random, &worker_bus, nullptr, &worker_store, nullptr};
  const std::string token = token_of(1);
  GatewayStats stats[2];
  std::unique_ptr<Gateway> gateways[2];
  routing::BusDaemonRouter router{worker_env};
  TokenCredentials credentials{token};
  daemon::MemoryRequestJournal journal;
  daemon::ToolSet tools = daemon::make_builtin_tools();
  Observer observer{world};
  std::unique_ptr<Daemon> daemon;
  Scope scope{worker_exec};   // after what its tasks use: destroyed first
  Scope dialer{daemon_exec};  // a hand-written daemon's tasks

  DrainWorld() {
    bool migrated = false;
    scope.spawn(migrate(&worker_store, world.now(), &migrated));
    run_until([&] { return migrated; });
    auto seeded = database.database().transact([this](SqlTransaction& tx) -> Result<void> {
      return insert_user_with_token(tx, "alice", token);
    });
    EXPECT_TRUE(seeded.has_value());
    for (int g = 0; g < 2; ++g) {
      GatewayConfig config;
      config.gateway_id = g == 0 ? "gw-1" : "gw-2";
      config.listen_address = kAddresses[g];
      auto started = Gateway::start(gw_env[g], config, &stats[g]);
      EXPECT_TRUE(started.has_value());
      gateways[g] = std::move(*started);
    }
  }

  template <class Done>
  void run_until(Done done, Duration within = minutes(5)) {
    const Instant limit = world.now() + within;
    while (!done() && world.now() < limit && world.step()) {
    }
  }
  // Exactly `d` of virtual time (stepping until a condition would jump to the next event).
  void run_for(Duration d) { world.run_until(world.now() + d); }
  // Starts the daemon (its backoff starts at `backoff_initial`) and waits for its registration.
  void start_daemon(Duration backoff_initial = seconds(5), bool wait = true) {
    daemon::DaemonConfig config;
    config.gateways = {kAddresses[0], kAddresses[1]};
    config.identity.name = "laptop";
    config.identity.working_dir = "/home/alice";
    config.reconnect = BackoffPolicy{backoff_initial, seconds(30), 2.0, 0.5};
    daemon = std::make_unique<Daemon>(daemon_env, config, credentials, journal, tools, &observer);
    if (wait) run_until([&] { return daemon->registered(); });
    if (wait) {
      ASSERT_TRUE(daemon->registered());
    }
  }
  // Which gateway holds the daemon.
  int holder() const { return gateways[0] && gateways[0]->holds(daemon->daemon_id()) ? 0 : 1; }
  routing::ToolCall bash(std::string request_id, std::string command) const {
    routing::ToolCall call;
    call.user_id = "user-alice";
    call.daemon_id = daemon->daemon_id();
    call.request_id = std::move(request_id);
    call.tool_name = "bash";
    call.input_json = nlohmann::json{{"command", std::move(command)}}.dump();
    call.timeout = minutes(1);
    return call;
  }
  std::pair<std::string, DaemonStatus> row() {
    std::pair<std::string, DaemonStatus> out;
    auto read = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      auto found = find_daemon(tx, daemon->daemon_id());
      if (!found) return fail(found.error());
      EXPECT_TRUE(found->has_value());
      if (*found) out = {(*found)->gateway_id, (*found)->status};
      return {};
    });
    EXPECT_TRUE(read.has_value());
    return out;
  }
};

std::string content_of(const std::optional<Result<v1::ToolResponse>>& out) {
  if (!out) return "(no answer)";
  if (!*out) return "(failed: " + (*out).error().describe() + ")";
  return (**out).content();
}

TEST(DrainingGateway, HandsTheDaemonOverOnceItsCallIsAnsweredThenSaysItIsDone) {
  DrainWorld w;
  w.start_daemon();
  const int h = w.holder();
  ASSERT_TRUE(w.gateways[h]->holds(w.daemon->daemon_id()));
  std::optional<Result<v1::ToolResponse>> first;
  w.scope.spawn(
      durable_call(&w.router, w.bash("req-1", "sleep 3; echo once >> marker; echo done"), &first));
  w.run_for(seconds(1));
  ASSERT_EQ(w.observer.executions["req-1"], 1);

  const Instant began = w.world.now();
  std::optional<Instant> drained;
  w.gateways[h]->begin_drain(seconds(30), [&] { drained = w.world.now(); });
  EXPECT_TRUE(w.gateways[h]->draining());
  w.run_until([&] { return first.has_value() && drained.has_value(); });
  EXPECT_EQ(content_of(first), "done\n");
  EXPECT_EQ(w.host.file("/home/alice/marker"), "once\n");
  EXPECT_EQ(w.observer.executions["req-1"], 1);
  ASSERT_TRUE(drained.has_value());
  // The call had two seconds left; the drain ends soon after, far inside its timeout.
  EXPECT_LT(*drained - began, seconds(3));
  EXPECT_EQ(w.stats[h].drained_daemons, 1u);

  // Told to go after its answer, the daemon registered with the other gateway at once: its
  // backoff would have waited 2.5 s at least.
  ASSERT_EQ(w.observer.leavings.size(), 1u);
  EXPECT_EQ(w.observer.leavings[0].second, kAddresses[h]);
  w.run_until([&] { return w.observer.registrations.size() == 2; });
  ASSERT_EQ(w.observer.registrations.size(), 2u);
  EXPECT_TRUE(w.gateways[1 - h]->holds(w.daemon->daemon_id()));
  EXPECT_EQ(w.observer.registrations[1].second, kAddresses[1 - h]);
  EXPECT_LT(w.observer.registrations[1].first - w.observer.leavings[0].first, milliseconds(200));
  EXPECT_EQ(w.row(), (std::pair{std::string(h == 0 ? "gw-2" : "gw-1"), DaemonStatus::active}));

  // The drained gateway's process exits; the next call goes through the other.
  w.gateways[h].reset();
  std::optional<Result<v1::ToolResponse>> second;
  w.scope.spawn(sync_call(&w.router, w.bash("req-2", "echo after"), &second));
  w.run_until([&] { return second.has_value(); });
  EXPECT_EQ(content_of(second), "after\n");
  EXPECT_EQ(w.host.file("/home/alice/marker"), "once\n");
}

TEST(DrainingGateway, CallsMadeWhileItDrainsRunOnceOnTheNextGateway) {
  DrainWorld w;
  w.start_daemon();
  const int h = w.holder();
  std::optional<Result<v1::ToolResponse>> running, durable, sync;
  w.scope.spawn(durable_call(&w.router, w.bash("req-1", "sleep 4; echo first"), &running));
  w.run_for(seconds(1));
  bool drained = false;
  w.gateways[h]->begin_drain(seconds(30), [&] { drained = true; });
  w.run_for(milliseconds(100));
  // Taken by nobody while the daemon is still held by the gateway going away: they wait for the
  // gateway that holds it next (the store and the router's retries bring them there).
  w.scope.spawn(
      durable_call(&w.router, w.bash("req-2", "echo two >> twos; echo second"), &durable));
  w.scope.spawn(sync_call(&w.router, w.bash("req-3", "echo third"), &sync));
  w.run_until([&] { return running && durable && sync && drained; });
  EXPECT_EQ(content_of(running), "first\n");
  EXPECT_EQ(content_of(durable), "second\n");
  EXPECT_EQ(content_of(sync), "third\n");
  EXPECT_EQ(w.host.file("/home/alice/twos"), "two\n");
  for (const char* id : {"req-1", "req-2", "req-3"}) EXPECT_EQ(w.observer.executions[id], 1) << id;
  EXPECT_EQ(w.stats[h].requests_sent, 1u) << "only the call it had before it drained";
  EXPECT_GE(w.stats[h].refused_draining, 1u);
  EXPECT_GE(w.stats[1 - h].requests_sent, 2u);
}

TEST(DrainingGateway, AtItsTimeoutSendsTheDaemonAwayAndTheCallIsStillAnsweredOnce) {
  DrainWorld w;
  w.start_daemon();
  const int h = w.holder();
  std::optional<Result<v1::ToolResponse>> slow;
  w.scope.spawn(
      durable_call(&w.router, w.bash("req-1", "sleep 20; echo slow >> slows; echo slow"), &slow));
  w.run_for(seconds(1));
  const Instant began = w.world.now();
  std::optional<Instant> drained;
  w.gateways[h]->begin_drain(seconds(2), [&] { drained = w.world.now(); });
  w.run_until([&] { return drained.has_value(); });
  ASSERT_TRUE(drained.has_value());
  EXPECT_GE(*drained - began, seconds(2));
  EXPECT_LT(*drained - began, seconds(3));
  EXPECT_FALSE(slow.has_value());
  w.gateways[h].reset();  // its process exits
  w.run_until([&] { return slow.has_value(); });
  // The daemon kept running it; the next gateway asked again (the same request id) and got the
  // one answer.
  EXPECT_EQ(content_of(slow), "slow\n");
  EXPECT_EQ(w.host.file("/home/alice/slows"), "slow\n");
  EXPECT_EQ(w.observer.executions["req-1"], 1);
  ASSERT_EQ(w.observer.registrations.size(), 2u);
  EXPECT_EQ(w.observer.registrations[1].second, kAddresses[1 - h]);
  EXPECT_LT(w.observer.registrations[1].first - *drained, milliseconds(200));
}

TEST(DrainingGateway, RefusesNewStreamsTellingThemToGoElsewhere) {
  DrainWorld w;
  bool drained = false;
  w.gateways[0]->begin_drain(seconds(30), [&] { drained = true; });
  w.run_until([&] { return drained; });
  EXPECT_TRUE(drained) << "nothing held: done at once";
  std::optional<Result<StreamPtr>> dialed;
  w.dialer.spawn(dial_into(&w.daemon_transport, kAddresses[0], w.token, &dialed));
  w.run_until([&] { return dialed.has_value(); });
  ASSERT_TRUE(dialed && *dialed);
  std::optional<Result<std::string>> first;
  w.dialer.spawn(receive_into(dialed->value().get(), &first));
  w.run_until([&] { return first.has_value(); });
  ASSERT_TRUE(first && *first);
  auto frame = protocol::decode<v1::GatewayFrame>(**first);
  ASSERT_TRUE(frame && frame->has_error());
  EXPECT_EQ(frame->error().code(), protocol::kShuttingDownCode);
  EXPECT_EQ(w.stats[0].refused_draining, 1u);
  EXPECT_EQ(w.stats[0].registrations, 0u);
}

TEST(DrainingGateway, ADaemonWhoseEveryGatewayIsGoingAwayBacksOffAfterOneRound) {
  DrainWorld w;
  int drained = 0;
  for (auto& gateway : w.gateways) gateway->begin_drain(seconds(30), [&] { ++drained; });
  w.run_until([&] { return drained == 2; });
  const Instant started = w.world.now();
  w.start_daemon(seconds(2), /*wait=*/false);
  w.run_for(seconds(10));
  EXPECT_FALSE(w.daemon->registered());
  // The first dial and one more at once per gateway it knows, then paced by the backoff (2 s,
  // 4 s, … with jitter).
  ASSERT_GE(w.observer.leavings.size(), 4u);
  EXPECT_LT(w.observer.leavings[2].first - started, milliseconds(100));
  EXPECT_NE(w.observer.leavings[0].second, w.observer.leavings[1].second);
  EXPECT_GE(w.observer.leavings[3].first - w.observer.leavings[2].first, seconds(1));
  EXPECT_LE(w.observer.leavings.size(), 6u);
}

}  // namespace
}  // namespace reliant::gateway
