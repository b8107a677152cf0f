// The Gateway against hand-written daemons in a simulated world: what it does with bad input on
// a daemon stream (garbage first frames, wrong tokens, malformed frames later), outputs too big
// for the bus, messages addressed to another user's daemon, and typed calls to a daemon of the
// last release (replaying its recorded frames) or to one that lacks the method.
#include <gtest/gtest.h>

#include <fstream>
#include <optional>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <nlohmann/json.hpp>

#include "core/managed_dial_key.h"
#include "core/personal_access_token.h"
#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "reliant/api/v1/daemon_services.pb.h"
#include "runtime/scope.h"
#include "services/daemon/daemon_methods.h"
#include "services/gateway/gateway.h"
#include "services/routing/bus_daemon_router.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/managed_daemons.h"
#include "services/storage/migrator.h"
#include "services/storage/sql_row.h"
#include "sim/sim_bus.h"
#include "sim/sim_store.h"
#include "sim/sim_transport.h"
#include "unit/support/test_tasks.h"
#include "unit/support/token_of.h"

namespace reliant::gateway {
namespace {

namespace sim = reliant::sim;

Task<void> dial_into(Transport* transport, std::string token,
                     std::optional<Result<StreamPtr>>* out) {
  Task<Result<StreamPtr>> dialing =
      transport->dial("gw:9190", Metadata{{"authorization", "Bearer " + token}}, seconds(5));
  *out = co_await dialing;
}

Task<void> call_into(routing::DaemonRouter* router, routing::ToolCall call,
                     std::optional<Result<v1::ToolResponse>>* out) {
  Task<Result<v1::ToolResponse>> pending = router->send_tool_request_sync(std::move(call));
  *out = co_await pending;
}

// A request on the bus from a client that is not a router: `body` as it is.
Task<void> ask_into(Bus* bus, std::string subject, std::string body,
                    std::optional<Result<BusMessage>>* out) {
  Task<Result<BusMessage>> asking = bus->request(std::move(subject), std::move(body), seconds(5));
  *out = co_await asking;
}

Task<void> daemon_call_into(routing::DaemonRouter* router, std::string daemon_id,
                            std::string method, std::string request,
                            std::optional<Result<std::string>>* out) {
  Task<Result<std::string>> pending = router->daemon_call("user-alice", std::move(daemon_id),
                                                          std::move(method), std::move(request));
  *out = co_await pending;
}

// A message of `type` from protobuf's JSON mapping.
std::unique_ptr<google::protobuf::Message> message_of(const google::protobuf::Descriptor* type,
                                                      const nlohmann::json& json) {
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
  const auto parsed = google::protobuf::util::JsonStringToMessage(json.dump(), message.get());
  EXPECT_TRUE(parsed.ok()) << parsed.ToString() << " in " << json.dump();
  return message;
}

const google::protobuf::MethodDescriptor* method_named(std::string name) {
  name = name.substr(1);
  name[name.find('/')] = '.';
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
}

// A world with a gateway node, a "daemon" node whose frames the test writes by hand, and a
// "worker" node with a bus router.
struct World {
  sim::World world{3};
  sim::Network network{milliseconds(1), milliseconds(2)};
  sim::SimBroker broker{world, network};
  sim::SimStreams streams{world, network};
  sim::SimDatabase database{world, network};
  sim::NodeId gw_node = world.add_node("gw");
  sim::NodeId daemon_node = world.add_node("daemon");
  sim::NodeId worker_node = world.add_node("worker");
  sim::SimExecutor gw_exec{world, gw_node};
  sim::SimExecutor daemon_exec{world, daemon_node};
  sim::SimExecutor worker_exec{world, worker_node};
  sim::SimBus gw_bus{broker, gw_exec};
  sim::SimBus worker_bus{broker, worker_exec};
  sim::SimTransport gw_transport{streams, gw_exec};
  sim::SimTransport daemon_transport{streams, daemon_exec};
  sim::SimStore gw_store{database, gw_exec};
  sim::SimStore worker_store{database, worker_exec};
  Random random{5};
  Env gw_env{gw_exec, random, &gw_bus, &gw_transport, &gw_store, nullptr};
  Env worker_env{worker_exec, random, &worker_bus, nullptr, &worker_store, nullptr};
  GatewayStats stats;
  std::unique_ptr<Gateway> gateway;
  routing::BusDaemonRouter router{
      worker_env, routing::BusRouterConfig{seconds(5), seconds(1), seconds(1), seconds(1)}};
  Scope scope{daemon_exec};
  const std::string alice_token = token_of(1);
  const std::string bob_token = token_of(2);

  World() {
    bool migrated = false;
    scope.spawn(migrate(&worker_store, world.now(), &migrated));
    run_until([&] { return migrated; });
    auto seeded = database.database().transact([this](SqlTransaction& tx) -> Result<void> {
      for (auto [user, token] : {std::pair{"alice", alice_token}, std::pair{"bob", bob_token}}) {
        if (auto ok = insert_user_with_token(tx, user, token); !ok) return ok;
      }
      return {};
    });
    EXPECT_TRUE(seeded.has_value());
    GatewayConfig config;
    config.gateway_id = "gw";
    config.listen_address = "gw:9190";
    auto started = Gateway::start(gw_env, config, &stats);
    EXPECT_TRUE(started.has_value());
    gateway = std::move(*started);
  }

  template <class Done>
  void run_until(Done done) {
    while (!done() && world.step()) {
    }
  }
  StreamPtr dial(const std::string& token) {
    std::optional<Result<StreamPtr>> out;
    scope.spawn(dial_into(&daemon_transport, token, &out));
    run_until([&] { return out.has_value(); });
    EXPECT_TRUE(out && out->has_value());
    return std::move(**out);
  }
  std::optional<v1::GatewayFrame> next_frame(Stream& stream) {
    std::optional<Result<std::string>> out;
    scope.spawn(receive_into(&stream, &out));
    run_until([&] { return out.has_value(); });
    if (!out || !*out) return std::nullopt;
    auto frame = protocol::decode<v1::GatewayFrame>(**out);
    EXPECT_TRUE(frame.has_value());
    return frame ? std::optional<v1::GatewayFrame>(*frame) : std::nullopt;
  }
  static std::string register_frame(const std::string& name) {
    v1::DaemonFrame frame;
    frame.mutable_register_()->set_name(name);
    frame.mutable_register_()->set_session_id("session-1");
    return protocol::encode(frame);
  }
  // Alice's managed daemon "pod", wanted running (its control plane's row).
  void add_managed_pod(const std::string& id) {
    auto made = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      ManagedDaemonRecord pod;
      pod.id = id;
      pod.user_id = "user-alice";
      pod.spec.name = "pod";
      pod.spec.permissions = PermissionProfile::execution;
      return insert_managed_daemon(tx, pod);
    });
    ASSERT_TRUE(made.has_value()) << made.error().message;
  }
  // A registered hand-written daemon: returns its stream and daemon id.
  std::pair<StreamPtr, std::string> registered(const std::string& token,
                                               const std::string& name = "hand-made") {
    StreamPtr stream = dial(token);
    EXPECT_TRUE(stream->send(register_frame(name)).has_value());
    auto ack = next_frame(*stream);
    EXPECT_TRUE(ack && ack->has_register_ack());
    return {std::move(stream), ack ? ack->register_ack().daemon_id() : ""};
  }
};

TEST(Gateway, RefusesAStreamWhoseFirstFrameIsNotARegistration) {
  World w;
  StreamPtr stream = w.dial(w.alice_token);
  ASSERT_TRUE(stream->send("\xff\xff garbage").has_value());
  auto frame = w.next_frame(*stream);
  ASSERT_TRUE(frame && frame->has_error());
  EXPECT_EQ(frame->error().code(), "invalid_argument");
  EXPECT_EQ(frame->error().message(), "the first frame on a daemon stream must be a register");
  EXPECT_FALSE(w.next_frame(*stream).has_value()) << "and the stream is closed";
  EXPECT_EQ(w.gateway->connected_daemons(), 0u);
}

TEST(Gateway, RefusesWrongRevokedAndMissingTokensAlike) {
  World w;
  for (const std::string& token : {token_of(9), std::string("rlnt_pat_short"), std::string()}) {
    StreamPtr stream = w.dial(token);
    ASSERT_TRUE(stream->send(World::register_frame("intruder")).has_value());
    auto frame = w.next_frame(*stream);
    ASSERT_TRUE(frame && frame->has_error()) << token;
    EXPECT_EQ(frame->error().code(), "unauthenticated");
    EXPECT_EQ(frame->error().message(), "invalid, revoked or expired token");
  }
  ASSERT_TRUE(w.database.database()
                  .transact([](SqlTransaction& tx) { return revoke_token(tx, "tok-alice", 1); })
                  .has_value());
  StreamPtr stream = w.dial(w.alice_token);
  ASSERT_TRUE(stream->send(World::register_frame("revoked")).has_value());
  auto frame = w.next_frame(*stream);
  ASSERT_TRUE(frame && frame->has_error());
  EXPECT_EQ(frame->error().code(), "unauthenticated");
}

// The store committed a registration but the gateway heard no answer, so it refused the daemon:
// the row names a connection nobody serves, and selection would send work to it until its lease
// ran out (a workflow node waited ten minutes for a daemon that never was). The gateway undoes
// it at once.
TEST(Gateway, UndoesARegistrationItRefusedAfterAnUnknownOutcome) {
  World w;
  w.database.faults().fail_after_commit = 1.0;
  StreamPtr stream = w.dial(w.alice_token);
  ASSERT_TRUE(stream->send(World::register_frame("unsure")).has_value());
  auto frame = w.next_frame(*stream);
  ASSERT_TRUE(frame && frame->has_error());
  EXPECT_EQ(frame->error().code(), "unavailable");
  w.database.faults().fail_after_commit = 0;
  const Instant until = w.world.now() + seconds(1);
  w.run_until([&] { return w.world.now() >= until; });
  std::vector<std::string> statuses;
  ASSERT_TRUE(w.database.database()
                  .transact([&](SqlTransaction& tx) -> Result<void> {
                    auto rows =
                        tx.query("SELECT status FROM daemons WHERE user_id = 'user-alice'", {});
                    if (!rows) return fail(rows.error());
                    for (const SqlRecord& r : records(*rows)) statuses.push_back(r.text("status"));
                    return {};
                  })
                  .has_value());
  EXPECT_EQ(statuses, std::vector<std::string>{"disconnected"}) << "committed, then undone";
}

// Idle suspension reads when a daemon last served its user: the holding gateway writes what
// the daemon's heartbeats say, on its own clock, with each lease renewal.
TEST(Gateway, RecordsWhenTheDaemonLastServedItsUserFromItsHeartbeats) {
  World w;
  auto [stream, daemon_id] = w.registered(w.alice_token);
  auto beat = [&](std::uint64_t idle_ms) {
    v1::DaemonFrame frame;
    frame.mutable_heartbeat()->set_sequence(1);
    frame.mutable_heartbeat()->set_idle_ms(idle_ms);
    ASSERT_TRUE(stream->send(protocol::encode(frame)).has_value());
  };
  auto recorded = [&, id = daemon_id] {
    std::optional<std::int64_t> at;
    auto read = w.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      auto row = find_daemon(tx, id);
      if (!row) return fail(row.error());
      if (!*row) return fail(ErrorCode::not_found, "no daemon " + id);
      at = (*row)->last_activity_at_ms;
      return {};
    });
    EXPECT_TRUE(read.has_value());
    return at;
  };
  EXPECT_EQ(recorded(), std::nullopt) << "nothing known before a heartbeat";
  beat(10 * 60 * 1000);  // idle for ten minutes
  const Instant heard = w.world.now();
  w.run_until([&] { return w.world.now() >= heard + seconds(20); });
  ASSERT_TRUE(recorded().has_value());
  const std::int64_t idle_since = to_ms(heard) - 10 * 60 * 1000;
  EXPECT_NEAR(static_cast<double>(*recorded()), static_cast<double>(idle_since), 50.0);
  beat(0);  // busy
  const Instant busy = w.world.now();
  w.run_until([&] { return w.world.now() >= busy + seconds(20); });
  EXPECT_GE(*recorded(), to_ms(busy));
}

// The gateway says it acknowledges, and each of its heartbeats says how many frames it has heard
// from the daemon since the registration, of every kind: a daemon whose frames stop being heard
// knows its direction of the stream is stalled.
TEST(Gateway, ItsHeartbeatsSayHowManyFramesItHeard) {
  World w;
  StreamPtr stream = w.dial(w.alice_token);
  ASSERT_TRUE(stream->send(World::register_frame("acked")).has_value());
  auto ack = w.next_frame(*stream);
  ASSERT_TRUE(ack && ack->has_register_ack());
  EXPECT_TRUE(ack->register_ack().acks_heartbeats());
  auto heard_by_next_heartbeat = [&] {
    for (;;) {
      auto frame = w.next_frame(*stream);
      if (!frame) return std::optional<std::uint64_t>();
      if (frame->has_heartbeat()) return std::optional(frame->heartbeat().frames_heard());
    }
  };
  EXPECT_EQ(heard_by_next_heartbeat(), 0u) << "none heard yet";
  for (const std::uint64_t sequence : {3u, 7u}) {
    v1::DaemonFrame beat;
    beat.mutable_heartbeat()->set_sequence(sequence);
    ASSERT_TRUE(stream->send(protocol::encode(beat)).has_value());
  }
  v1::DaemonFrame chunk;
  chunk.mutable_output_chunk()->set_request_id("nobody-asked");
  chunk.mutable_output_chunk()->set_data("output");
  ASSERT_TRUE(stream->send(protocol::encode(chunk)).has_value());
  ASSERT_TRUE(stream->send("\xff\xff not a frame").has_value());
  EXPECT_EQ(heard_by_next_heartbeat(), 3u) << "two heartbeats and a chunk; not the garbage";
}

// A gateway renews the leases of all the daemons it holds together, once a period
// (Gateway::renew_leases), and each renewal still answers for its own stream: one whose token
// was revoked without an announcement is refused, one whose row a later connection took is let
// go, and the others are renewed and kept.
TEST(Gateway, RenewsEveryLeaseItHoldsAndLetsGoOfStreamsThatLostTheirTokenOrTheirRow) {
  World w;
  auto [kept, kept_id] = w.registered(w.alice_token, "kept");
  auto [replaced, replaced_id] = w.registered(w.alice_token, "replaced");
  auto [revoked, revoked_id] = w.registered(w.bob_token, "revoked");
  ASSERT_EQ(w.gateway->connected_daemons(), 3u);
  auto lease_of = [&](const std::string& id) {
    std::int64_t lease = -1;
    auto read = w.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      auto rows = tx.query("SELECT lease_until_ms FROM daemons WHERE id = $1", {id});
      if (!rows) return fail(rows.error());
      if (!rows->rows.empty()) lease = first_record(*rows).integer("lease_until_ms");
      return {};
    });
    EXPECT_TRUE(read.has_value());
    return lease;
  };
  const std::int64_t kept_lease = lease_of(kept_id);
  auto changed = w.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    if (auto ok = revoke_token(tx, "tok-bob", to_ms(w.world.now())); !ok) return ok;
    auto taken =
        tx.execute("UPDATE daemons SET connection_id = 'a-later-one' WHERE id = $1", {replaced_id});
    if (!taken) return fail(taken.error());
    return {};
  });
  ASSERT_TRUE(changed.has_value()) << changed.error().message;

  // Within one period (stale_after / 3: 10 s by default), and no heartbeat answered meanwhile.
  const Instant until = w.world.now() + seconds(11);
  w.run_until([&] { return w.world.now() >= until; });
  EXPECT_TRUE(w.gateway->holds(kept_id));
  EXPECT_GT(lease_of(kept_id), kept_lease);
  EXPECT_FALSE(w.gateway->holds(replaced_id));
  EXPECT_FALSE(w.gateway->holds(revoked_id));
  EXPECT_EQ(w.stats.ownership_lost, 1u);
  EXPECT_EQ(w.stats.credentials_revoked, 1u);
  // The revoked daemon was told why; the replaced one's stream just ended.
  std::optional<v1::GatewayFrame> told;
  while (auto frame = w.next_frame(*revoked)) {
    if (frame->has_error()) told = frame;
  }
  ASSERT_TRUE(told.has_value());
  EXPECT_EQ(told->error().code(), "unauthenticated");
  while (auto frame = w.next_frame(*replaced)) {
    EXPECT_FALSE(frame->has_error()) << frame->DebugString();
  }
}

// A managed daemon's stream that ends is dialled again while its control plane wants it
// running; once it is wanted suspended (its pod stopped: the reason the stream ended), never.
TEST(Gateway, DialsAManagedDaemonAgainOnlyWhileItIsWantedRunning) {
  for (const bool suspended : {false, true}) {
    World w;
    w.add_managed_pod("01MANAGED00000000000000000");
    std::vector<StreamPtr> accepted;
    auto listening = w.daemon_transport.listen(
        "daemon:9290", [&](StreamPtr stream) { accepted.push_back(std::move(stream)); });
    ASSERT_TRUE(listening.has_value());
    const Instant subscribed = w.world.now() + milliseconds(100);  // the gateway's subscriptions
    w.run_until([&] { return w.world.now() >= subscribed; });
    v1::ManagedConnect connect;
    connect.set_daemon_id("01MANAGED00000000000000000");
    connect.set_user_id("user-alice");
    connect.set_address("daemon:9290");
    connect.set_dial_key("key-of-pod");
    ASSERT_TRUE(w.worker_bus.publish(subjects::kGatewayConnect, protocol::to_json(connect)));
    const Instant dial_by = w.world.now() + seconds(10);
    w.run_until([&] { return !accepted.empty() || w.world.now() > dial_by; });
    ASSERT_EQ(accepted.size(), 1u) << "the gateway did not dial";
    // It shows the daemon the key it was told (core/managed_dial_key.h).
    const Metadata& shown = accepted[0]->metadata();
    ASSERT_TRUE(shown.contains(std::string(kDialKeyMetadata)));
    EXPECT_EQ(shown.at(std::string(kDialKeyMetadata)), "key-of-pod");
    ASSERT_TRUE(accepted[0]->send(World::register_frame("pod")).has_value());
    auto ack = w.next_frame(*accepted[0]);
    ASSERT_TRUE(ack && ack->has_register_ack());
    if (suspended) {
      auto wish = w.database.database().transact([](SqlTransaction& tx) -> Result<void> {
        auto set = set_desired_state(tx, "01MANAGED00000000000000000", DesiredState::suspended, 1);
        if (!set) return fail(set.error());
        return {};
      });
      ASSERT_TRUE(wish.has_value());
    }
    accepted[0]->close();
    const Instant until = w.world.now() + seconds(30);
    w.run_until([&] { return w.world.now() >= until; });
    if (suspended) {
      EXPECT_EQ(w.stats.managed_dials, 1u) << "a suspended daemon was dialled again";
    } else {
      EXPECT_GT(w.stats.managed_dials, 1u) << "a daemon wanted running was not dialled again";
    }
  }
}

// A connect command can wait on the bus while the daemon's user suspends it, and a pod that is
// not up yet fails the dials: neither is a reason to dial a daemon no longer wanted running.
TEST(Gateway, NeverDialsAManagedDaemonItsControlPlaneNoLongerWantsRunning) {
  World w;
  const std::string id = "01MANAGED00000000000000000";
  w.add_managed_pod(id);
  const Instant subscribed = w.world.now() + milliseconds(100);  // the gateway's subscriptions
  w.run_until([&] { return w.world.now() >= subscribed; });
  v1::ManagedConnect connect;
  connect.set_daemon_id(id);
  connect.set_user_id("user-alice");
  connect.set_address("daemon:9290");  // nothing listens yet: the pod is starting
  ASSERT_TRUE(w.worker_bus.publish(subjects::kGatewayConnect, protocol::to_json(connect)));
  const Instant failing = w.world.now() + seconds(3);
  w.run_until([&] { return w.world.now() >= failing; });
  ASSERT_GE(w.stats.managed_dial_failures, 2u) << "a daemon wanted running is dialled until up";
  const auto suspend = [&] {
    return w.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      auto set = set_desired_state(tx, id, DesiredState::suspended, 1);
      if (!set) return fail(set.error());
      return {};
    });
  };
  ASSERT_TRUE(suspend().has_value());
  const std::uint64_t dials = w.stats.managed_dials;
  const Instant later = w.world.now() + seconds(60);
  w.run_until([&] { return w.world.now() >= later; });
  EXPECT_EQ(w.stats.managed_dials, dials) << "the suspended daemon was dialled again";
  // A command sent while it was wanted, delivered after the suspension: no dial at all.
  ASSERT_TRUE(w.worker_bus.publish(subjects::kGatewayConnect, protocol::to_json(connect)));
  const Instant delivered = w.world.now() + seconds(10);
  w.run_until([&] { return w.world.now() >= delivered; });
  EXPECT_EQ(w.stats.managed_dials, dials) << "a stale connect command dialled a suspended daemon";
}

// A typed call to a suspended managed daemon (nobody holds it) wakes it, as a durable call does:
// the daemon is wanted running again, and the call is sent once a gateway holds it and answered
// there. When nothing connects within the router's resume_wait, the call fails saying so.
TEST(Gateway, ATypedCallToASuspendedManagedDaemonWakesItAndIsAnsweredOnceItConnects) {
  for (const bool comes_up : {true, false}) {
    SCOPED_TRACE(comes_up ? "it comes up" : "it never comes up");
    World w;
    const std::string id = "01MANAGED00000000000000000";
    const auto desired = [&] {
      DesiredState state = DesiredState::deleted;
      auto read = w.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
        auto row = find_managed_daemon(tx, id);
        if (!row) return fail(row.error());
        if (*row) state = (*row)->desired;
        return {};
      });
      EXPECT_TRUE(read.has_value());
      return state;
    };
    w.add_managed_pod(id);
    auto made = w.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      auto set = set_desired_state(tx, id, DesiredState::suspended, 1);
      if (!set) return fail(set.error());
      return {};
    });
    ASSERT_TRUE(made.has_value()) << made.error().message;
    std::vector<StreamPtr> accepted;
    auto listening = w.daemon_transport.listen(
        "daemon:9290", [&](StreamPtr stream) { accepted.push_back(std::move(stream)); });
    ASSERT_TRUE(listening.has_value());
    std::optional<Result<std::string>> answer;
    const Instant called = w.world.now();
    w.scope.spawn(daemon_call_into(&w.router, id, "/reliant.api.v1.FileSystemService/ListDirectory",
                                   "", &answer));
    w.run_until([&] { return desired() == DesiredState::running || answer.has_value(); });
    ASSERT_FALSE(answer.has_value()) << "the call gave up: " << answer->error().describe();
    EXPECT_LT(w.world.now() - called, seconds(5)) << "woken late";
    if (comes_up) {
      // The control plane's part: the pod is up, and a gateway is asked to dial it.
      v1::ManagedConnect connect;
      connect.set_daemon_id(id);
      connect.set_user_id("user-alice");
      connect.set_address("daemon:9290");
      ASSERT_TRUE(w.worker_bus.publish(subjects::kGatewayConnect, protocol::to_json(connect)));
      w.run_until([&] { return !accepted.empty(); });
      ASSERT_EQ(accepted.size(), 1u);
      v1::DaemonFrame hello;
      hello.mutable_register_()->set_name("pod");
      hello.mutable_register_()->set_session_id("session-1");
      hello.mutable_register_()->set_protocol_version(daemon::kDaemonProtocolVersion);
      hello.mutable_register_()->add_methods("/reliant.api.v1.FileSystemService/ListDirectory");
      ASSERT_TRUE(accepted[0]->send(protocol::encode(hello)).has_value());
      auto ack = w.next_frame(*accepted[0]);
      ASSERT_TRUE(ack && ack->has_register_ack());
      auto call = w.next_frame(*accepted[0]);
      ASSERT_TRUE(call && call->has_command()) << "the call never reached the woken daemon";
      EXPECT_EQ(call->command().method(), "/reliant.api.v1.FileSystemService/ListDirectory");
      v1::DaemonFrame reply;
      reply.mutable_command_result()->set_command_id(call->command().command_id());
      reply.mutable_command_result()->set_ok(true);
      reply.mutable_command_result()->set_response("listed");
      ASSERT_TRUE(accepted[0]->send(protocol::encode(reply)).has_value());
      w.run_until([&] { return answer.has_value(); });
      ASSERT_TRUE(answer && answer->has_value()) << answer->error().describe();
      EXPECT_EQ(**answer, "listed");
    } else {
      w.run_until([&] { return answer.has_value(); });
      ASSERT_TRUE(answer.has_value());
      ASSERT_FALSE(answer->has_value());
      EXPECT_EQ(answer->error().code, ErrorCode::unavailable);
      EXPECT_NE(answer->error().message.find("did not connect within 60 s"), std::string::npos)
          << answer->error().message;
      EXPECT_LT(w.world.now() - called, seconds(70)) << "waited past its bound";
    }
  }
}

TEST(Gateway, DropsMalformedFramesAndKeepsServingTheStream) {
  World w;
  auto [stream, daemon_id] = w.registered(w.alice_token);
  ASSERT_TRUE(stream->send("not a frame at all \x01\x02").has_value());
  std::optional<Result<v1::ToolResponse>> response;
  routing::ToolCall call{"user-alice", daemon_id, "req-1", "bash", R"({"command":"true"})",
                         "",           seconds(5)};
  w.scope.spawn(call_into(&w.router, call, &response));
  auto request = w.next_frame(*stream);
  ASSERT_TRUE(request && request->has_tool_request()) << "the stream still works";
  EXPECT_EQ(request->tool_request().request_id(), "req-1");
  v1::DaemonFrame answer;
  answer.mutable_tool_response()->set_request_id("req-1");
  answer.mutable_tool_response()->set_success(true);
  answer.mutable_tool_response()->set_content("ok");
  ASSERT_TRUE(stream->send(protocol::encode(answer)).has_value());
  w.run_until([&] { return response.has_value(); });
  ASSERT_TRUE(response && response->has_value());
  EXPECT_EQ((*response)->content(), "ok");
  EXPECT_EQ((*response)->daemon_id(), daemon_id) << "stamped by the gateway";
}

// In either encoding: binary to a router (tools.call), JSON to any other client
// (tools.request.sync), where escaping makes the same output six times as big.
TEST(Gateway, CutsAnOutputTooBigForTheBusAndSaysSo) {
  World w;
  auto [stream, daemon_id] = w.registered(w.alice_token);
  // 1.5 MB of control characters: each becomes \u0001 in JSON, six times the size.
  const std::string output(1'500'000, '\x01');
  auto answer = [&](const std::string& request_id) {
    v1::DaemonFrame frame;
    frame.mutable_tool_response()->set_request_id(request_id);
    frame.mutable_tool_response()->set_success(true);
    frame.mutable_tool_response()->set_content(output);
    ASSERT_TRUE(stream->send(protocol::encode(frame)).has_value());
  };
  std::optional<Result<v1::ToolResponse>> response;
  routing::ToolCall call{"user-alice", daemon_id, "req-big", "bash", R"({"command":"cat /dev/x"})",
                         "",           seconds(5)};
  w.scope.spawn(call_into(&w.router, call, &response));
  auto request = w.next_frame(*stream);
  ASSERT_TRUE(request && request->has_tool_request());
  answer("req-big");
  w.run_until([&] { return response.has_value(); });
  ASSERT_TRUE(response && response->has_value()) << response->error().message;
  EXPECT_TRUE((*response)->truncated());
  EXPECT_LE(protocol::encode(**response).size(), 1'000'000u);
  EXPECT_NE((*response)->content().find("[output truncated to fit a bus message"),
            std::string::npos);

  v1::ToolRequest asked = request->tool_request();
  asked.set_request_id("req-big-json");
  std::optional<Result<BusMessage>> reply;
  w.scope.spawn(ask_into(&w.worker_bus, subjects::tool_request_sync("user-alice"),
                         protocol::to_json(asked), &reply));
  request = w.next_frame(*stream);
  ASSERT_TRUE(request && request->has_tool_request());
  answer("req-big-json");
  w.run_until([&] { return reply.has_value(); });
  ASSERT_TRUE(reply && reply->has_value()) << reply->error().message;
  EXPECT_LE((*reply)->data.size(), 1'000'000u);
  auto in_json = protocol::from_json<v1::ToolResponse>((*reply)->data);
  ASSERT_TRUE(in_json.has_value()) << in_json.error().message;
  EXPECT_TRUE(in_json->truncated());
  EXPECT_LT(in_json->content().size(), 200'000u) << "cut to fit its escaped JSON";
}

// A client in any language asks on tools.request.sync.<user> in protobuf's JSON mapping, the
// platform's routers on tools.call.<user> in its binary encoding. Each is answered in the encoding
// it asked in, also when both wait for the same request; a body that does not parse is answered
// invalid_input, in the encoding it came in.
TEST(Gateway, AnswersEachSynchronousCallerInTheEncodingItAskedIn) {
  World w;
  auto [stream, daemon_id] = w.registered(w.alice_token);
  v1::ToolRequest request;
  request.set_request_id("req-both");
  request.set_user_id("user-alice");
  request.set_daemon_id(daemon_id);
  request.set_tool_name("bash");
  request.set_input_json(R"({"command":"true"})");
  request.set_timeout_ms(5000);
  std::optional<Result<BusMessage>> as_json;
  std::optional<Result<BusMessage>> as_binary;
  w.scope.spawn(ask_into(&w.worker_bus, subjects::tool_request_sync("user-alice"),
                         protocol::to_json(request), &as_json));
  w.scope.spawn(ask_into(&w.worker_bus, subjects::tool_call("user-alice"),
                         protocol::encode(request), &as_binary));
  for (int sent = 0; sent < 2; ++sent) {  // the second is sent down as a repeat
    auto frame = w.next_frame(*stream);
    ASSERT_TRUE(frame && frame->has_tool_request());
    EXPECT_EQ(frame->tool_request().request_id(), "req-both");
  }
  v1::DaemonFrame answer;
  answer.mutable_tool_response()->set_request_id("req-both");
  answer.mutable_tool_response()->set_success(true);
  answer.mutable_tool_response()->set_content("done");
  ASSERT_TRUE(stream->send(protocol::encode(answer)).has_value());
  w.run_until([&] { return as_json.has_value() && as_binary.has_value(); });
  ASSERT_TRUE(as_json && as_json->has_value());
  ASSERT_TRUE(as_binary && as_binary->has_value());
  auto from_json = protocol::from_json<v1::ToolResponse>((*as_json)->data);
  ASSERT_TRUE(from_json.has_value()) << from_json.error().message;
  auto from_binary = protocol::decode<v1::ToolResponse>((*as_binary)->data);
  ASSERT_TRUE(from_binary.has_value()) << from_binary.error().message;
  for (const v1::ToolResponse& got : {*from_json, *from_binary}) {
    EXPECT_EQ(got.content(), "done");
    EXPECT_EQ(got.daemon_id(), daemon_id);
    EXPECT_EQ(got.user_id(), "user-alice");
  }
  EXPECT_EQ((*as_binary)->data, protocol::encode(*from_binary));

  std::optional<Result<BusMessage>> bad_json;
  std::optional<Result<BusMessage>> bad_binary;
  w.scope.spawn(ask_into(&w.worker_bus, subjects::tool_request_sync("user-alice"),
                         R"({"request_id":)", &bad_json));
  w.scope.spawn(
      ask_into(&w.worker_bus, subjects::tool_call("user-alice"), "\xff\xff\xff", &bad_binary));
  w.run_until([&] { return bad_json.has_value() && bad_binary.has_value(); });
  ASSERT_TRUE(bad_json && bad_json->has_value());
  ASSERT_TRUE(bad_binary && bad_binary->has_value());
  auto json_refusal = protocol::from_json<v1::ToolResponse>((*bad_json)->data);
  ASSERT_TRUE(json_refusal.has_value());
  EXPECT_EQ(json_refusal->error_code(), "invalid_input");
  auto binary_refusal = protocol::decode<v1::ToolResponse>((*bad_binary)->data);
  ASSERT_TRUE(binary_refusal.has_value());
  EXPECT_EQ(binary_refusal->error_code(), "invalid_input");
  EXPECT_NE(binary_refusal->error_message().find("malformed"), std::string::npos)
      << binary_refusal->error_message();
}

// Gateways of an earlier release serve tools.request.sync only. A router asks there, in JSON,
// when nobody is on tools.call at all, and when an attempt there went unanswered: the daemon's
// gateway may be an old one beside new ones, which hear the call and do not hold the daemon.
TEST(Gateway, ARouterAsksInJsonWhereNoGatewayServingBinaryCallsAnswers) {
  for (const bool beside_a_new_one : {false, true}) {
    SCOPED_TRACE(beside_a_new_one ? "beside a new gateway" : "alone");
    World w;
    if (!beside_a_new_one) w.gateway.reset();
    std::vector<std::string> heard;
    auto earlier = w.gw_bus.subscribe(subjects::kToolRequestSyncAll, [&](const BusMessage& m) {
      heard.push_back(m.data);
      auto request = protocol::from_json<v1::ToolRequest>(m.data);
      ASSERT_TRUE(request.has_value()) << request.error().message;
      v1::ToolResponse response;
      response.set_request_id(request->request_id());
      response.set_success(true);
      response.set_content("answered by " + request->tool_name());
      ASSERT_TRUE(w.gw_bus.publish(m.reply_to, protocol::to_json(response)));
    });
    ASSERT_TRUE(earlier.has_value());
    std::optional<Result<v1::ToolResponse>> response;
    routing::ToolCall call{"user-alice", "d1",      "req-old", "bash", R"({"command":"true"})",
                           "",           seconds(5)};
    w.scope.spawn(call_into(&w.router, call, &response));
    w.run_until([&] { return response.has_value(); });
    ASSERT_TRUE(response && response->has_value()) << response->error().message;
    EXPECT_EQ((*response)->content(), "answered by bash");
    ASSERT_EQ(heard.size(), 1u);
    EXPECT_EQ(heard[0].front(), '{');
  }
}

// A router's inbox may get bytes that are no answer of its call (a buggy or hostile publisher's;
// binary, they often parse): it drops them and asks again (the simulator's bus garbage had a
// call answered by "daemon ''", protocol_faults seed 23).
TEST(Gateway, ARouterDropsWhatNamesNoRequestOfItsCallAndAsksAgain) {
  World w;
  w.gateway.reset();
  int asked = 0;
  auto gateway = w.gw_bus.subscribe(subjects::kToolCallAll, [&](const BusMessage& m) {
    auto request = protocol::decode<v1::ToolRequest>(m.data);
    ASSERT_TRUE(request.has_value()) << request.error().message;
    v1::ToolResponse response;
    response.set_daemon_id(request->daemon_id());
    response.set_content("answer " + std::to_string(++asked));
    if (asked == 1) {
      ASSERT_TRUE(w.gw_bus.publish(m.reply_to, std::string("\x0a\x03"
                                                           "abc")));  // parses: request "abc"
    } else if (asked == 2) {
      response.set_request_id("another request");
      ASSERT_TRUE(w.gw_bus.publish(m.reply_to, protocol::encode(response)));
    } else {
      response.set_request_id(request->request_id());
      ASSERT_TRUE(w.gw_bus.publish(m.reply_to, protocol::encode(response)));
    }
  });
  ASSERT_TRUE(gateway.has_value());
  std::optional<Result<v1::ToolResponse>> response;
  routing::ToolCall call{"user-alice", "d1",      "req-1", "bash", R"({"command":"true"})",
                         "",           seconds(5)};
  w.scope.spawn(call_into(&w.router, call, &response));
  w.run_until([&] { return response.has_value(); });
  ASSERT_TRUE(response && response->has_value()) << response->error().message;
  EXPECT_EQ((*response)->content(), "answer 3");
  EXPECT_EQ((*response)->request_id(), "req-1");
  EXPECT_EQ((*response)->daemon_id(), "d1");
}

// A gateway's answer names its request with at most 256 bytes of the id, and a router takes only
// an answer that names its very request: it refuses a longer id up front, which it would otherwise
// ask about until the call's deadline.
TEST(Gateway, ARouterRefusesARequestIdLongerThanAnAnswerNames) {
  World w;
  auto [stream, daemon_id] = w.registered(w.alice_token);
  std::optional<Result<v1::ToolResponse>> response;
  routing::ToolCall call{
      "user-alice", daemon_id, std::string(257, 'r'), "bash", R"({"command":"true"})",
      "",           seconds(5)};
  w.scope.spawn(call_into(&w.router, call, &response));
  w.run_until([&] { return response.has_value(); });
  ASSERT_TRUE(response && !response->has_value());
  EXPECT_EQ(response->error().code, ErrorCode::invalid_argument);
  EXPECT_NE(response->error().message.find("257 bytes"), std::string::npos)
      << response->error().message;
}

// What a daemon sends besides its content is bounded too: an answer whose error message alone is
// past the bus's limit (with no content to cut) still reaches its caller, cut, and the gateway
// goes on (it looped for ever).
TEST(Gateway, CutsAnErrorMessageTooBigForTheBus) {
  World w;
  auto [stream, daemon_id] = w.registered(w.alice_token);
  std::optional<Result<v1::ToolResponse>> response;
  routing::ToolCall call{"user-alice", daemon_id, "req-err", "bash", R"({"command":"false"})",
                         "",           seconds(5)};
  w.scope.spawn(call_into(&w.router, call, &response));
  auto request = w.next_frame(*stream);
  ASSERT_TRUE(request && request->has_tool_request());
  v1::DaemonFrame answer;
  answer.mutable_tool_response()->set_request_id("req-err");
  answer.mutable_tool_response()->set_error_code("internal");
  answer.mutable_tool_response()->set_error_message(std::string(1'100'000, 'e'));
  answer.mutable_tool_response()->set_metadata_json("[" + std::string(1'100'000, '1') + "]");
  ASSERT_TRUE(stream->send(protocol::encode(answer)).has_value());
  w.run_until([&] { return response.has_value(); });
  ASSERT_TRUE(response && response->has_value()) << response->error().message;
  EXPECT_LE(protocol::to_json(**response).size(), 1'000'000u);
  EXPECT_EQ((*response)->error_message().size(), 64u << 10);
}

// A registration number is stored as a BIGINT: one past 2^63 - 1 is refused, not wrapped to a
// negative one (the gateway asserted on it and stopped).
TEST(Gateway, RefusesARegistrationNumberPastTheLargestItStores) {
  World w;
  StreamPtr stream = w.dial(w.alice_token);
  v1::DaemonFrame hello;
  hello.mutable_register_()->set_name("far-future");
  hello.mutable_register_()->set_registration_seq(std::uint64_t{1} << 63);
  ASSERT_TRUE(stream->send(protocol::encode(hello)).has_value());
  auto refused = w.next_frame(*stream);
  ASSERT_TRUE(refused && refused->has_error());
  EXPECT_EQ(refused->error().code(), "invalid_argument");
  EXPECT_NE(refused->error().message().find("registration_seq"), std::string::npos);
}

// A command's answer counts only from the daemon it went to: Bob's daemon, guessing the id of a
// command sent to Alice's, is ignored. And an answer of a daemon of the last release whose fields
// have the wrong types is refused as malformed, the gateway going on (it threw and stopped).
TEST(Gateway, TakesACommandsAnswerFromItsOwnDaemonOnlyAndRefusesAMalformedOne) {
  World w;
  auto [alice, alice_daemon] = w.registered(w.alice_token, "alice-box");
  auto [bob, bob_daemon] = w.registered(w.bob_token, "bob-box");
  std::optional<Result<std::string>> answer;
  w.scope.spawn(daemon_call_into(&w.router, alice_daemon,
                                 "/reliant.api.v1.FileSystemService/ListDirectory", "", &answer));
  auto sent = w.next_frame(*alice);
  ASSERT_TRUE(sent && sent->has_command());
  v1::DaemonFrame forged;
  forged.mutable_command_result()->set_command_id(sent->command().command_id());
  forged.mutable_command_result()->set_ok(true);
  forged.mutable_command_result()->set_output_json(R"({"entries":[{"name":"forged"}]})");
  ASSERT_TRUE(bob->send(protocol::encode(forged)).has_value());
  v1::DaemonFrame malformed;
  malformed.mutable_command_result()->set_command_id(sent->command().command_id());
  malformed.mutable_command_result()->set_ok(true);
  malformed.mutable_command_result()->set_output_json("[1]");  // fs_list answers an object
  ASSERT_TRUE(alice->send(protocol::encode(malformed)).has_value());
  w.run_until([&] { return answer.has_value(); });
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(answer->has_value()) << "Bob's forged listing was taken";
  EXPECT_NE(answer->error().message.find("malformed"), std::string::npos)
      << answer->error().describe();
}

// A refusal whose code is not text (a daemon of the last release answering {"code": 1}) is a
// refusal like any other; reading its code threw and stopped the gateway.
TEST(Gateway, RefusesARefusalWhoseCodeIsNotText) {
  World w;
  auto [stream, daemon_id] = w.registered(w.alice_token);
  std::optional<Result<std::string>> answer;
  w.scope.spawn(daemon_call_into(&w.router, daemon_id,
                                 "/reliant.api.v1.FileSystemService/ListDirectory", "", &answer));
  auto sent = w.next_frame(*stream);
  ASSERT_TRUE(sent && sent->has_command());
  v1::DaemonFrame refusal;
  refusal.mutable_command_result()->set_command_id(sent->command().command_id());
  refusal.mutable_command_result()->set_ok(false);
  refusal.mutable_command_result()->set_output_json(R"({"code": 1})");
  refusal.mutable_command_result()->set_error_message("no");
  ASSERT_TRUE(stream->send(protocol::encode(refusal)).has_value());
  w.run_until([&] { return answer.has_value(); });
  ASSERT_TRUE(answer.has_value());
  ASSERT_FALSE(answer->has_value());
  EXPECT_EQ(answer->error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(answer->error().message, "no");
}

TEST(Gateway, NeverDeliversToAnotherUsersDaemon) {
  World w;
  auto [stream, alice_daemon] = w.registered(w.alice_token);
  // Bob names Alice's daemon: the subject is bob's, the daemon is not bob's.
  std::optional<Result<v1::ToolResponse>> response;
  routing::ToolCall call{"user-bob", alice_daemon, "req-x", "bash", R"({"command":"id"})",
                         "",         seconds(1)};
  w.scope.spawn(call_into(&w.router, call, &response));
  std::optional<Result<std::string>> frame;
  w.scope.spawn(receive_into(stream.get(), &frame));
  w.run_until([&] { return response.has_value(); });
  ASSERT_TRUE(response.has_value());
  EXPECT_FALSE(response->has_value());
  EXPECT_EQ(response->error().code, ErrorCode::timeout);
  EXPECT_FALSE(frame.has_value()) << "nothing reached Alice's daemon";
}

// Daemon protocol 0 (the last release's daemon, which knows only verbs) still works: each typed
// call reaches it as the very verb and arguments that release's servers sent, and its recorded
// answers come back as the method's responses, a refusal as its code.
TEST(Gateway, ServesTypedCallsToADaemonOfTheLastReleaseFromItsRecordedFrames) {
  std::ifstream in(std::string(RELIANT_SOURCE_DIR) + "/tests/data/daemon_protocol_0/frames.json");
  ASSERT_TRUE(in.good());
  const nlohmann::json recorded = nlohmann::json::parse(in);
  World w;
  StreamPtr stream = w.dial(w.alice_token);
  v1::DaemonFrame hello;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(recorded["register"].dump(),
                                                          hello.mutable_register_())
                  .ok());
  ASSERT_TRUE(stream->send(protocol::encode(hello)).has_value());
  auto ack = w.next_frame(*stream);
  ASSERT_TRUE(ack && ack->has_register_ack());
  const std::string daemon_id = ack->register_ack().daemon_id();
  ASSERT_GE(recorded["exchanges"].size(), 10u);
  for (const auto& exchange : recorded["exchanges"]) {
    const std::string name = exchange["method"];
    SCOPED_TRACE(name);
    const google::protobuf::MethodDescriptor* method = method_named(name);
    ASSERT_NE(method, nullptr);
    nlohmann::json request = exchange["request"];
    request["daemon_id"] = daemon_id;
    std::optional<Result<std::string>> answer;
    w.scope.spawn(daemon_call_into(&w.router, daemon_id, name,
                                   message_of(method->input_type(), request)->SerializeAsString(),
                                   &answer));
    auto frame = w.next_frame(*stream);
    ASSERT_TRUE(frame && frame->has_command());
    EXPECT_EQ(frame->command().command(), exchange["command"]);
    EXPECT_EQ(nlohmann::json::parse(frame->command().args_json()), exchange["args"]);
    EXPECT_TRUE(frame->command().method().empty() && frame->command().request().empty());
    v1::DaemonFrame reply;
    v1::DaemonCommandResult* result = reply.mutable_command_result();
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(exchange["answer"].dump(), result).ok());
    result->set_command_id(frame->command().command_id());
    ASSERT_TRUE(stream->send(protocol::encode(reply)).has_value());
    w.run_until([&] { return answer.has_value(); });
    ASSERT_TRUE(answer.has_value());
    if (exchange.contains("error")) {
      ASSERT_FALSE(answer->has_value());
      EXPECT_EQ(to_string(answer->error().code), exchange["error"].get<std::string>());
      EXPECT_EQ(answer->error().message, exchange["answer"]["error_message"].get<std::string>());
      continue;
    }
    ASSERT_TRUE(answer->has_value()) << answer->error().describe();
    const auto expected = message_of(method->output_type(), exchange["response"]);
    const auto actual = message_of(method->output_type(), nlohmann::json::object());
    ASSERT_TRUE(actual->ParseFromString(**answer));
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*expected, *actual))
        << actual->DebugString();
  }
  // What protocol 0 never had is refused here, naming it; nothing reaches the daemon.
  std::optional<Result<std::string>> streamed;
  w.scope.spawn(daemon_call_into(&w.router, daemon_id,
                                 "/reliant.api.v1.TerminalService/StreamTerminal", "", &streamed));
  w.run_until([&] { return streamed.has_value(); });
  ASSERT_TRUE(streamed.has_value() && !streamed->has_value());
  EXPECT_EQ(streamed->error().code, ErrorCode::unimplemented);
  EXPECT_NE(streamed->error().message.find("StreamTerminal"), std::string::npos);
  auto next = w.next_frame(*stream);  // a heartbeat, never the refused call
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->has_command());
}

// What a daemon announces is kept on its connection, so it is bounded: a Register that names more
// methods than any daemon has is refused, like one with a malformed id.
TEST(Gateway, RefusesARegisterThatAnnouncesTooManyMethods) {
  World w;
  StreamPtr stream = w.dial(w.alice_token);
  v1::DaemonFrame hello;
  hello.mutable_register_()->set_name("greedy");
  hello.mutable_register_()->set_protocol_version(1);
  for (int i = 0; i < 1025; ++i) hello.mutable_register_()->add_methods("/m/" + std::to_string(i));
  ASSERT_TRUE(stream->send(protocol::encode(hello)).has_value());
  auto refused = w.next_frame(*stream);
  ASSERT_TRUE(refused && refused->has_error());
  EXPECT_EQ(refused->error().code(), "invalid_argument");
  EXPECT_NE(refused->error().message().find("at most 1024 methods"), std::string::npos);
}

// A daemon of protocol 1 gets typed calls as they are, for the methods it announced only.
TEST(Gateway, SendsTypedCallsAsTheyAreAndRefusesWhatTheDaemonDidNotAnnounce) {
  World w;
  StreamPtr stream = w.dial(w.alice_token);
  v1::DaemonFrame hello;
  hello.mutable_register_()->set_name("new");
  hello.mutable_register_()->set_protocol_version(1);
  hello.mutable_register_()->add_methods("/reliant.api.v1.FileSystemService/ListDirectory");
  ASSERT_TRUE(stream->send(protocol::encode(hello)).has_value());
  auto ack = w.next_frame(*stream);
  ASSERT_TRUE(ack && ack->has_register_ack());
  const std::string daemon_id = ack->register_ack().daemon_id();

  std::optional<Result<std::string>> refused;
  w.scope.spawn(daemon_call_into(&w.router, daemon_id, "/reliant.api.v1.MCPService/ListServers", "",
                                 &refused));
  w.run_until([&] { return refused.has_value(); });
  ASSERT_TRUE(refused.has_value() && !refused->has_value());
  EXPECT_EQ(refused->error().code, ErrorCode::unimplemented);
  EXPECT_NE(refused->error().message.find("/reliant.api.v1.MCPService/ListServers"),
            std::string::npos);
  auto next = w.next_frame(*stream);  // a heartbeat, never the refused call
  ASSERT_TRUE(next.has_value());
  EXPECT_FALSE(next->has_command());

  reliant::api::v1::ListDirectoryRequest request;
  request.set_daemon_id(daemon_id);
  request.set_path("src");
  std::optional<Result<std::string>> answer;
  w.scope.spawn(daemon_call_into(&w.router, daemon_id,
                                 "/reliant.api.v1.FileSystemService/ListDirectory",
                                 request.SerializeAsString(), &answer));
  std::optional<v1::GatewayFrame> frame;
  do {
    frame = w.next_frame(*stream);
  } while (frame && !frame->has_command());
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->command().method(), "/reliant.api.v1.FileSystemService/ListDirectory");
  EXPECT_EQ(frame->command().request(), request.SerializeAsString());
  EXPECT_TRUE(frame->command().command().empty());
  reliant::api::v1::ListDirectoryResponse listed;
  listed.set_path("src");
  listed.add_entries()->set_name("main.cc");
  v1::DaemonFrame reply;
  reply.mutable_command_result()->set_command_id(frame->command().command_id());
  reply.mutable_command_result()->set_ok(true);
  reply.mutable_command_result()->set_response(listed.SerializeAsString());
  ASSERT_TRUE(stream->send(protocol::encode(reply)).has_value());
  w.run_until([&] { return answer.has_value(); });
  ASSERT_TRUE(answer.has_value() && answer->has_value());
  EXPECT_EQ(**answer, listed.SerializeAsString());
}

}  // namespace
}  // namespace reliant::gateway
