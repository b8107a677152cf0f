// The control plane in a simulated world, against a scripted provisioner: it starts what its
// users create, asks a gateway to dial it, restarts what exits with backoff, suspends what is
// idle, resumes on request, removes what is deleted, leaves a platform it does not serve failed
// with the reason, and shares the work with other replicas through leases.
#include "services/control_plane/control_plane.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

#include "core/managed_dial_key.h"
#include "core/queued_command.h"
#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "services/storage/accounts.h"
#include "services/storage/daemon_commands.h"
#include "services/storage/daemons.h"
#include "services/storage/managed_daemons.h"
#include "services/storage/migrator.h"
#include "services/storage/projects.h"
#include "services/storage/sql_row.h"
#include "sim/one_node.h"

namespace reliant::control_plane {
namespace {

namespace sim = reliant::sim;

// Pods that start at once and run until the test ends them.
class ScriptedProvisioner final : public Provisioner {
 public:
  std::map<std::string, PodState> pods;
  std::vector<std::string> calls;             // "start d1", "stop d1", "remove d1"
  std::vector<DaemonDeployment> deployments;  // as each start got it

  DaemonPlatform platform() const override { return DaemonPlatform::local; }
  Result<void> preflight(const ManagedDaemonSpec&) const override { return {}; }
  Task<Result<ProvisionedDaemon>> observe(std::string id) override { co_return seen(id); }
  Task<Result<ProvisionedDaemon>> start(DaemonDeployment deployment) override {
    calls.push_back("start " + deployment.spec.name);
    deployments.push_back(deployment);
    pods[deployment.daemon_id] = PodState::running;
    co_return seen(deployment.daemon_id);
  }
  Task<Result<void>> stop(std::string id) override {
    calls.push_back("stop " + id);
    pods[id] = PodState::absent;
    co_return Result<void>();
  }
  Task<Result<void>> remove(std::string id) override {
    calls.push_back("remove " + id);
    pods.erase(id);
    co_return Result<void>();
  }

 private:
  ProvisionedDaemon seen(const std::string& id) const {
    const auto pod = pods.find(id);
    if (pod == pods.end()) return {};
    return {pod->second, "http://" + id + ":9290", ""};
  }
};

struct Fixture : sim::OneNode {
  std::vector<std::string> dials;      // daemon@address, as the gateways would hear them
  std::vector<std::string> dial_keys;  // each connect command's
  SubscriptionPtr listening;
  ScriptedProvisioner pods;
  SeededSecretSource secrets{random};

  Fixture() : OneNode(7, 1, "control-plane") {
    EXPECT_TRUE(run(migrate_up(store, executor.now())).has_value());
    auto seeded = run(store.transact_for([](SqlTransaction& tx) -> Result<void> {
      return insert_user(tx, User{"user-1", "ada@example.com", "ada", 0});
    }));
    EXPECT_TRUE(seeded.has_value());
    auto subscribed = bus.subscribe(subjects::kGatewayConnect, [this](const BusMessage& m) {
      auto connect = protocol::from_json<daemon::v1::ManagedConnect>(m.data);
      ASSERT_TRUE(connect.has_value());
      EXPECT_EQ(connect->user_id(), "user-1");
      dials.push_back(connect->daemon_id() + "@" + connect->address());
      dial_keys.push_back(connect->dial_key());
    });
    EXPECT_TRUE(subscribed.has_value());
    listening = std::move(*subscribed);
  }

  void create(const std::string& id, DaemonPlatform platform = DaemonPlatform::local,
              bool always_on = false, bool commands = false) {
    ManagedDaemonRecord row;
    row.id = id;
    row.user_id = "user-1";
    row.spec.name = id;
    row.spec.platform = platform;
    row.spec.permissions = PermissionProfile::execution;
    row.spec.always_on = always_on;
    row.spec.commands_enabled = commands;
    row.created_at_ms = to_ms(executor.now());
    auto made = run(store.transact_for(
        [row](SqlTransaction& tx) -> Result<void> { return insert_managed_daemon(tx, row); }));
    ASSERT_TRUE(made.has_value()) << made.error().message;
  }
  ManagedDaemonRecord row(const std::string& id) {
    auto read = run(store.transact_for([id](SqlTransaction& tx) -> Result<ManagedDaemonRecord> {
      return owned_managed_daemon(tx, "user-1", id);
    }));
    EXPECT_TRUE(read.has_value()) << read.error().message;
    return read.value_or(ManagedDaemonRecord{});
  }
  // What a gateway records when it holds the daemon's stream.
  void connect(const std::string& id, std::int64_t activity_ms) {
    auto done = run(store.transact_for([id, activity_ms](SqlTransaction& tx) -> Result<void> {
      DaemonRecord daemon;
      daemon.id = id;
      daemon.user_id = "user-1";
      daemon.name = id;
      daemon.type = DaemonType::cloud;
      daemon.connection_id = "c-" + id;
      daemon.connected_at_ms = activity_ms;
      if (auto ok = record_daemon_connected(tx, daemon); !ok) return ok;
      auto renewed = renew_daemon_leases(
          tx, {{id, "c-" + id, DaemonStatus::active, activity_ms + 30000, activity_ms}});
      if (!renewed) return fail(renewed.error());
      return {};
    }));
    ASSERT_TRUE(done.has_value()) << done.error().message;
  }
  void disconnect(const std::string& id) {
    auto done = run(store.transact_for([id](SqlTransaction& tx) -> Result<void> {
      auto set = record_daemon_status(tx, id, "c-" + id, DaemonStatus::disconnected, 0);
      if (!set) return fail(set.error());
      return {};
    }));
    ASSERT_TRUE(done.has_value());
  }
  // The dial secret the store keeps (core/managed_dial_key.h).
  std::string dial_secret() {
    auto secret = run(store.transact_for([](SqlTransaction& tx) -> Result<std::string> {
      auto rows = tx.query("SELECT value FROM cluster_secrets WHERE name = $1",
                           {std::string(kDialSecretName)});
      if (!rows) return fail(rows.error());
      if (rows->rows.empty()) return std::string();
      return first_record(*rows).text("value");
    }));
    EXPECT_TRUE(secret.has_value());
    return secret.value_or("");
  }
  void advance(Duration d) { world.run_until(world.now() + d); }
  static ControlPlaneConfig config(std::string replica = "cp-1") {
    ControlPlaneConfig c;
    c.replica_id = std::move(replica);
    c.interval = seconds(1);
    c.lease = seconds(5);
    c.suspend_after = minutes(5);
    return c;
  }
};

TEST(ControlPlane, StartsACreatedDaemonAndAsksTheGatewaysToDialItUntilOneHoldsIt) {
  Fixture f;
  f.create("box");
  ControlPlane plane(f.env, f.secrets, {&f.pods}, Fixture::config());
  f.advance(milliseconds(1500));
  EXPECT_EQ(f.pods.calls, std::vector<std::string>{"start box"});
  EXPECT_EQ(f.dials, std::vector<std::string>{"box@http://box:9290"});
  EXPECT_EQ(f.row("box").observed, ObservedState::running);
  // Not held yet: asked again, but only once a dial had time to register (a second gateway
  // dialling meanwhile would replace the first's stream).
  f.advance(seconds(3));
  EXPECT_EQ(f.dials.size(), 1u) << "within the dial grace";
  f.advance(seconds(3));
  EXPECT_EQ(f.dials.size(), 2u);
  f.connect("box", to_ms(f.executor.now()));
  f.advance(seconds(8));
  EXPECT_EQ(f.dials.size(), 2u) << "a held daemon is left alone";
  EXPECT_EQ(f.pods.calls.size(), 1u);
  EXPECT_EQ(f.row("box").status, DaemonStatus::active);
}

// The daemon and the gateways asked to dial it get the same key, derived from the store's dial
// secret; another daemon's key differs, and a second replica (or a restarted one) keeps the
// secret the first drew.
TEST(ControlPlane, ADaemonAndItsGatewaysGetOneDialKeyFromTheStoresSecret) {
  Fixture f;
  f.create("box");
  f.create("other");
  {
    ControlPlane plane(f.env, f.secrets, {&f.pods}, Fixture::config());
    f.advance(milliseconds(1500));
  }
  const std::string secret = f.dial_secret();
  ASSERT_FALSE(secret.empty()) << "the first round stores the dial secret";
  ASSERT_EQ(f.pods.deployments.size(), 2u);
  ASSERT_EQ(f.dial_keys.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const DaemonDeployment& d = f.pods.deployments[i];
    EXPECT_EQ(d.dial_key, managed_dial_key(secret, d.daemon_id));
    EXPECT_EQ(f.dials[i].substr(0, f.dials[i].find('@')), d.daemon_id);
    EXPECT_EQ(f.dial_keys[i], d.dial_key) << "the gateway was told another key";
  }
  EXPECT_NE(f.pods.deployments[0].dial_key, f.pods.deployments[1].dial_key);
  f.pods.pods.clear();  // both exited: the next replica starts them again
  ControlPlane next(f.env, f.secrets, {&f.pods}, Fixture::config("cp-2"));
  f.advance(seconds(30));
  EXPECT_EQ(f.dial_secret(), secret);
  ASSERT_GT(f.pods.deployments.size(), 2u);
  EXPECT_EQ(f.pods.deployments.back().dial_key,
            managed_dial_key(secret, f.pods.deployments.back().daemon_id));
}

TEST(ControlPlane, RestartsADaemonThatExitsWithGrowingBackoff) {
  Fixture f;
  f.create("box", DaemonPlatform::local, /*always_on=*/true);
  ControlPlane plane(f.env, f.secrets, {&f.pods}, Fixture::config());
  f.advance(milliseconds(1500));
  ASSERT_EQ(f.pods.calls.size(), 1u);
  std::vector<Instant> restarts;
  for (int exit = 0; exit < 3; ++exit) {
    f.pods.pods["box"] = PodState::exited;
    const std::size_t before = f.pods.calls.size();
    while (f.pods.calls.size() == before) f.advance(milliseconds(100));
    restarts.push_back(f.executor.now());
  }
  const ManagedDaemonRecord row = f.row("box");
  EXPECT_EQ(row.restarts, 3);
  EXPECT_EQ(row.observed, ObservedState::running);
  EXPECT_EQ(plane.stats().exits_seen, 3u);
  // Seen at a round, restarted at the first round after 1 s, 2 s, 4 s.
  EXPECT_GE(restarts[2] - restarts[1], restarts[1] - restarts[0]);
  EXPECT_GE(restarts[2] - restarts[1], seconds(4));
  // Once a gateway holds it, the next exit starts again from the shortest delay.
  f.connect("box", to_ms(f.executor.now()));
  f.advance(seconds(2));
  EXPECT_EQ(f.row("box").restarts, 0);
}

TEST(ControlPlane, SuspendsAnIdleDaemonAndStartsItAgainWhenResumed) {
  Fixture f;
  f.create("idle");
  f.create("busy");
  f.create("keeper", DaemonPlatform::local, /*always_on=*/true);
  ControlPlane plane(f.env, f.secrets, {&f.pods}, Fixture::config());
  f.advance(seconds(2));
  for (const char* id : {"idle", "busy", "keeper"}) f.connect(id, to_ms(f.executor.now()));
  // `busy` keeps serving: its gateway hears activity every minute.
  for (int minute = 0; minute < 6; ++minute) {
    f.advance(minutes(1));
    f.connect("busy", to_ms(f.executor.now()));
  }
  EXPECT_EQ(f.row("idle").desired, DesiredState::suspended);
  EXPECT_EQ(f.row("idle").observed, ObservedState::suspended);
  EXPECT_EQ(f.row("busy").desired, DesiredState::running);
  EXPECT_EQ(f.row("keeper").desired, DesiredState::running) << "always on";
  EXPECT_EQ(plane.stats().idle_suspensions, 1u);
  // The stream ends with the pod: everywhere it reads suspended, not merely disconnected.
  f.disconnect("idle");
  EXPECT_EQ(f.row("idle").status, DaemonStatus::suspended);
  auto daemon =
      f.run(f.store.transact_for([](SqlTransaction& tx) { return find_daemon(tx, "idle"); }));
  ASSERT_TRUE(daemon.has_value() && daemon->has_value());
  EXPECT_EQ((*daemon)->status, DaemonStatus::suspended);

  auto resumed = f.run(f.store.transact_for([now_ms = to_ms(f.executor.now())](SqlTransaction& tx) {
    return set_desired_state(tx, "idle", DesiredState::running, now_ms);
  }));
  ASSERT_TRUE(resumed.has_value());
  f.advance(seconds(2));
  EXPECT_EQ(f.row("idle").observed, ObservedState::running);
  EXPECT_EQ(f.pods.calls.back(), "start idle");
  EXPECT_EQ(f.row("idle").status, DaemonStatus::disconnected) << "until a gateway holds it";
}

TEST(ControlPlane, RemovesADeletedDaemonAndRefusesAPlatformItDoesNotServe) {
  Fixture f;
  f.create("box");
  f.create("elsewhere", DaemonPlatform::kubernetes);
  ControlPlane plane(f.env, f.secrets, {&f.pods}, Fixture::config());
  f.advance(seconds(2));
  const ManagedDaemonRecord refused = f.row("elsewhere");
  EXPECT_EQ(refused.observed, ObservedState::failed);
  EXPECT_EQ(refused.last_error,
            "platform kubernetes is not configured on this control plane; daemons run on: local");
  auto deleting =
      f.run(f.store.transact_for([now_ms = to_ms(f.executor.now())](SqlTransaction& tx) {
        return set_desired_state(tx, "box", DesiredState::deleted, now_ms);
      }));
  ASSERT_TRUE(deleting.has_value());
  f.advance(seconds(2));
  EXPECT_EQ(f.pods.calls.back(), "remove box");
  auto gone =
      f.run(f.store.transact_for([](SqlTransaction& tx) { return find_daemon(tx, "box"); }));
  ASSERT_TRUE(gone.has_value());
  EXPECT_FALSE(gone->has_value()) << "its rows go with it";
  EXPECT_EQ(plane.stats().removals, 1u);
}

TEST(ControlPlane, OneReplicaActsOnADaemonAndAnotherTakesOverWhenItStops) {
  Fixture f;
  f.create("box");
  std::map<std::string, std::unique_ptr<ControlPlane>> replicas;
  for (const char* id : {"cp-1", "cp-2"}) {
    replicas[id] = std::make_unique<ControlPlane>(
        f.env, f.secrets, std::vector<Provisioner*>{&f.pods}, Fixture::config(id));
  }
  f.advance(seconds(3));
  EXPECT_EQ(f.pods.calls.size(), 1u) << "started once, by one replica";
  const std::string holder = f.row("box").lease_owner;
  ASSERT_TRUE(replicas.contains(holder));
  // The holder stops (its lease stays behind in the store); the other takes over once it runs
  // out, and restarts the daemon that exited meanwhile.
  replicas.erase(holder);
  const std::string other = replicas.begin()->first;
  f.pods.pods["box"] = PodState::exited;
  f.advance(seconds(3));
  EXPECT_EQ(f.pods.calls.size(), 1u) << "nobody acts while the lease holds";
  f.advance(seconds(9));
  EXPECT_EQ(f.row("box").lease_owner, other);
  EXPECT_EQ(f.pods.calls.back(), "start box");
  EXPECT_EQ(replicas.at(other)->stats().starts, 1u);
}

TEST(ControlPlane, AStoreThatCannotAnswerCostsRoundsNotDaemons) {
  Fixture f;
  f.create("box");
  ControlPlane plane(f.env, f.secrets, {&f.pods}, Fixture::config());
  f.database.faults().outage = true;
  f.advance(seconds(3));
  EXPECT_TRUE(f.pods.calls.empty());
  EXPECT_GE(plane.stats().store_failures, 2u);
  f.database.faults().outage = false;
  f.advance(seconds(2));
  EXPECT_EQ(f.pods.calls, std::vector<std::string>{"start box"});
}

TEST(ControlPlane, EachStartHandsADaemonWithCommandsANewTokenWhoseHashIsStored) {
  Fixture f;
  f.create("worker", DaemonPlatform::local, false, true);
  f.create("plain");
  ControlPlaneConfig config = Fixture::config();
  config.commands_url = "https://api.example:8080";
  config.commands_ca_file = "/etc/reliant/ca.pem";
  ControlPlane plane(f.env, f.secrets, {&f.pods}, config);
  f.advance(seconds(3));
  ASSERT_EQ(f.pods.deployments.size(), 2u);
  const auto worker =
      std::find_if(f.pods.deployments.begin(), f.pods.deployments.end(),
                   [](const DaemonDeployment& d) { return d.spec.name == "worker"; });
  const auto plain = std::find_if(f.pods.deployments.begin(), f.pods.deployments.end(),
                                  [](const DaemonDeployment& d) { return d.spec.name == "plain"; });
  ASSERT_NE(worker, f.pods.deployments.end());
  ASSERT_NE(plain, f.pods.deployments.end());
  EXPECT_TRUE(plain->commands_token.empty() && plain->commands_url.empty());
  EXPECT_EQ(worker->commands_url, "https://api.example:8080");
  EXPECT_EQ(worker->commands_ca_file, "/etc/reliant/ca.pem");
  EXPECT_TRUE(worker->commands_token.starts_with("rlnt_cmd_worker."));
  const std::string first = worker->commands_token;
  auto stored = f.run(
      f.store.transact_for([](SqlTransaction& tx) { return commands_token_hash(tx, "worker"); }));
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ(**stored, hash_command_token(first));
  const std::vector<std::string> args = managed_daemon_arguments(*worker, DaemonPlacement{});
  EXPECT_NE(std::find(args.begin(), args.end(), "--commands-url"), args.end());
  for (const std::string& arg : args) EXPECT_EQ(arg.find("rlnt_cmd_"), std::string::npos);

  // It exits; the restart carries a new token, and the old one stops working.
  f.pods.pods["worker"] = PodState::absent;
  f.advance(seconds(5));
  ASSERT_GE(f.pods.deployments.size(), 3u);
  EXPECT_NE(f.pods.deployments.back().commands_token, first);
  stored = f.run(
      f.store.transact_for([](SqlTransaction& tx) { return commands_token_hash(tx, "worker"); }));
  ASSERT_TRUE(stored.has_value() && stored->has_value());
  EXPECT_EQ(**stored, hash_command_token(f.pods.deployments.back().commands_token));
}

TEST(ControlPlane, ADaemonsProjectLinksReachTheirFoldersAndAGoneProjectFailsItsStart) {
  Fixture f;
  auto made = f.run(f.store.transact_for([](SqlTransaction& tx) -> Result<void> {
    return insert_project(tx, ProjectRecord{"p1", "user-1", "shop", "/srv/shop", 1, {}});
  }));
  ASSERT_TRUE(made.has_value());
  f.create("linked");
  auto linked = f.run(f.store.transact_for([](SqlTransaction& tx) -> Result<void> {
    ManagedDaemonSpec spec;
    spec.name = "linked";
    spec.permissions = PermissionProfile::execution;
    spec.links = {"/data", "p1"};
    auto replaced = replace_managed_spec(tx, "linked", spec, 1);
    if (!replaced) return fail(replaced.error());
    return {};
  }));
  ASSERT_TRUE(linked.has_value());
  ControlPlane plane(f.env, f.secrets, {&f.pods}, Fixture::config());
  f.advance(seconds(3));
  ASSERT_EQ(f.pods.deployments.size(), 1u);
  EXPECT_EQ(f.pods.deployments[0].linked_paths, std::vector<std::string>{"/srv/shop"});
  const std::vector<std::string> args =
      managed_daemon_arguments(f.pods.deployments[0], DaemonPlacement{9290, "0.0.0.0", "/ws"});
  std::vector<std::string> roots;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--workspace-root") roots.push_back(args[i + 1]);
  }
  EXPECT_EQ(roots, (std::vector<std::string>{"/ws", "/data", "/srv/shop"}));

  // The project goes; the daemon exits: its next start fails, saying which link.
  auto gone = f.run(
      f.store.transact_for([](SqlTransaction& tx) { return delete_project(tx, "user-1", "p1"); }));
  ASSERT_TRUE(gone.has_value());
  f.pods.pods["linked"] = PodState::absent;
  f.advance(seconds(5));
  EXPECT_EQ(f.row("linked").observed, ObservedState::failed);
  EXPECT_NE(f.row("linked").last_error.find("no project or worktree p1 of yours"),
            std::string::npos)
      << f.row("linked").last_error;
}

}  // namespace
}  // namespace reliant::control_plane
