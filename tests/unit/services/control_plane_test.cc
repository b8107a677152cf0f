// The control plane in a simulated world: each round it asks the gateways to dial the managed
// daemons not recorded active, in one read of the store; a store that cannot answer costs a
// round, not the loop.
#include "services/control_plane/control_plane.h"

#include <gtest/gtest.h>

#include <set>

#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/migrator.h"
#include "sim/one_node.h"

namespace reliant::control_plane {
namespace {

namespace sim = reliant::sim;

// One node for the control plane, its store and its bus; the test listens on the same bus as
// the gateways would.
struct Fixture : sim::OneNode {
  std::multiset<std::string> dials;  // daemon@address, as a gateway would hear them
  SubscriptionPtr listening;

  Fixture() : OneNode(7, 1, "control-plane") {
    EXPECT_TRUE(run(migrate_up(store, executor.now())).has_value());
    auto seeded = run(store.transact_for([](SqlTransaction& tx) -> Result<void> {
      if (auto ok = insert_user(tx, User{"user-1", "ada@example.com", "ada", 0}); !ok) return ok;
      for (const char* id : {"active-1", "gone-1"}) {
        DaemonRecord daemon;
        daemon.id = id;
        daemon.user_id = "user-1";
        daemon.connection_id = std::string("c-") + id;
        daemon.connected_at_ms = 1;
        if (auto ok = record_daemon_connected(tx, daemon); !ok) return ok;
        const DaemonStatus status =
            std::string(id) == "active-1" ? DaemonStatus::active : DaemonStatus::disconnected;
        auto set = record_daemon_status(tx, id, daemon.connection_id, status, 1);
        if (!set) return fail(set.error());
      }
      return {};
    }));
    EXPECT_TRUE(seeded.has_value()) << seeded.error().describe();
    auto subscribed = bus.subscribe(subjects::kGatewayConnect, [this](const BusMessage& m) {
      auto connect = protocol::from_json<daemon::v1::ManagedConnect>(m.data);
      ASSERT_TRUE(connect.has_value());
      EXPECT_EQ(connect->user_id(), "user-1");
      dials.insert(connect->daemon_id() + "@" + connect->address());
    });
    EXPECT_TRUE(subscribed.has_value());
    listening = std::move(*subscribed);
  }
};

TEST(ControlPlane, AsksTheGatewaysToDialEveryManagedDaemonNotRecordedActive) {
  Fixture f;
  const std::vector<ManagedDaemon> fleet = {{"active-1", "user-1", "box-1:9290"},
                                            {"gone-1", "user-1", "box-2:9290"},
                                            {"new-1", "user-1", "box-3:9290"}};
  const std::uint64_t before = f.database.stats().transactions;
  ControlPlane plane(
      f.env, [&fleet] { return fleet; }, ControlPlaneConfig{seconds(2)});
  f.world.run_until(f.world.now() + milliseconds(4500));  // two rounds
  EXPECT_EQ(f.dials, (std::multiset<std::string>{"gone-1@box-2:9290", "gone-1@box-2:9290",
                                                 "new-1@box-3:9290", "new-1@box-3:9290"}));
  EXPECT_EQ(plane.stats().checks, 2u);
  EXPECT_EQ(plane.stats().dials_requested, 4u);
  EXPECT_EQ(f.database.stats().transactions - before, 2u);  // one read a round

  // The store out: no dial on a guess; back: the rounds go on.
  f.dials.clear();
  f.database.faults().outage = true;
  f.world.run_until(f.world.now() + seconds(2));
  EXPECT_TRUE(f.dials.empty());
  EXPECT_EQ(plane.stats().store_failures, 1u);
  f.database.faults().outage = false;
  f.world.run_until(f.world.now() + seconds(2));
  EXPECT_EQ(f.dials.size(), 2u);
}

}  // namespace
}  // namespace reliant::control_plane
