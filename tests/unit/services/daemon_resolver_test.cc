// Daemon resolution against the store, with the online check: a row that says "active" for a
// daemon no gateway holds (its gateway died before writing the disconnect) is passed over for
// one that is online; when none answers, the rows are trusted; explicit choices are not checked.
#include "services/routing/daemon_resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "services/routing/daemon_router.h"
#include "services/storage/accounts.h"
#include "services/storage/daemons.h"
#include "services/storage/managed_daemons.h"
#include "services/storage/migrator.h"
#include "sim/one_node.h"

namespace reliant::routing {
namespace {

// Answers only online checks: the daemons in `online` are held by some gateway.
class OnlineOnly final : public DaemonRouter {
 public:
  std::set<std::string> online;
  std::vector<std::string> asked;
  bool broken = false;  // the bus fails

  Task<Result<v1::ToolResponse>> send_tool_request(ToolCall) override {
    co_return fail(ErrorCode::internal, "unused");
  }
  Task<Result<v1::ToolResponse>> send_tool_request_sync(ToolCall) override {
    co_return fail(ErrorCode::internal, "unused");
  }
  Task<Result<void>> cancel_tool(std::string, std::string, std::string, std::string) override {
    co_return fail(ErrorCode::internal, "unused");
  }
  Task<Result<bool>> is_online(std::string, std::string daemon_id) override {
    asked.push_back(daemon_id);
    if (broken) co_return fail(ErrorCode::unavailable, "the bus is down");
    co_return online.count(daemon_id) != 0;
  }
  Task<Result<v1::DaemonCommandResult>> send_command(v1::DaemonCommand) override {
    co_return fail(ErrorCode::internal, "unused");
  }
  Task<Result<void>> reload_config(std::string, std::string) override {
    co_return fail(ErrorCode::internal, "unused");
  }
};

struct ResolverHarness : sim::OneNode {
  OnlineOnly router;
  ResolverHarness() : OneNode(1, 1) {
    EXPECT_TRUE(run(migrate_up(store, world.now())).has_value());
    auto seeded = database.database().transact([](SqlTransaction& tx) -> Result<void> {
      if (auto ok = insert_user(tx, User{"u1", "u1@example.com", "u1", 0}); !ok) return ok;
      // Oldest first: stale (recorded active, held by nobody), then fresh.
      for (const char* id : {"stale", "fresh"}) {
        DaemonRecord daemon;
        daemon.id = id;
        daemon.user_id = "u1";
        daemon.name = id;
        daemon.status = DaemonStatus::active;
        daemon.connection_id = std::string("c-") + id;
        daemon.connected_at_ms = std::string(id) == "stale" ? 1 : 2;
        if (auto ok = record_daemon_connected(tx, daemon); !ok) return ok;
      }
      return {};
    });
    EXPECT_TRUE(seeded.has_value()) << seeded.error().message;
  }
  std::string resolve(DaemonChoice choice = {}, bool check = true) {
    auto decided = run(resolve_daemon(store, "u1", std::move(choice), check ? &router : nullptr));
    EXPECT_TRUE(decided.has_value()) << decided.error().message;
    return decided ? decided->daemon_id : "";
  }
};

TEST(DaemonResolver, AStaleActiveRowIsPassedOverForADaemonThatIsOnline) {
  ResolverHarness h;
  const std::string unchecked = h.resolve({}, /*check=*/false);
  h.router.online = {"stale", "fresh"};
  const std::string trusted = h.resolve();
  EXPECT_EQ(trusted, unchecked) << "both online: the cascade's own choice";
  h.router.online = {unchecked == "stale" ? "fresh" : "stale"};
  h.router.asked.clear();
  const std::string chosen = h.resolve();
  EXPECT_NE(chosen, unchecked) << "the one no gateway holds is passed over";
  EXPECT_EQ(h.router.asked.size(), 2u);
}

TEST(DaemonResolver, WhenNoneAnswersTheRowsAreTrustedAndExplicitChoicesAreNotChecked) {
  ResolverHarness h;
  const std::string unchecked = h.resolve({}, false);
  h.router.online = {};
  EXPECT_EQ(h.resolve(), unchecked) << "nobody online: a durable request waits for it";
  h.router.broken = true;
  EXPECT_EQ(h.resolve(), unchecked) << "no way to tell: the row is trusted";
  h.router.broken = false;
  h.router.asked.clear();
  DaemonChoice session;
  session.session_daemon_id = "stale";
  EXPECT_EQ(h.resolve(session), "stale");
  EXPECT_TRUE(h.router.asked.empty()) << "the chat's own daemon is the user's choice";
}

// The default cascade and a session daemon read only the rows they need (list_connected_candidates,
// find_daemon), and choose as the full cascade over every row would: the best connected daemon
// (local before cloud, then the latest connection), another user's daemon never.
TEST(DaemonResolver, IndexedReadsChooseAsTheFullCascadeDoes) {
  ResolverHarness h;
  auto seeded = h.database.database().transact([](SqlTransaction& tx) -> Result<void> {
    if (auto ok = insert_user(tx, User{"u2", "u2@example.com", "u2", 0}); !ok) return ok;
    for (int i = 0; i < 30; ++i) {
      DaemonRecord daemon;
      daemon.id = "fleet-" + std::to_string(i);
      daemon.user_id = i == 7 ? "u2" : "u1";
      daemon.type = i % 3 == 0 ? DaemonType::local : DaemonType::cloud;
      daemon.connection_id = "c-" + daemon.id;
      daemon.connected_at_ms = 100 + (i * 37) % 30;  // out of creation order
      if (auto ok = record_daemon_connected(tx, daemon); !ok) return ok;
      if (i % 4 == 1) {
        auto set = record_daemon_status(tx, daemon.id, daemon.connection_id,
                                        DaemonStatus::disconnected, 1);
        if (!set) return fail(set.error());
      }
    }
    return {};
  });
  ASSERT_TRUE(seeded.has_value()) << seeded.error().message;
  // The cascade over every row, as before the indexed read.
  std::vector<DaemonRecord> rows;
  std::vector<DaemonCandidate> connected;
  auto read = h.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto all = list_daemons(tx, "u1");
    if (!all) return fail(all.error());
    rows = std::move(*all);
    auto best = list_connected_candidates(tx, "u1", 8);
    if (!best) return fail(best.error());
    connected = std::move(*best);
    return {};
  });
  ASSERT_TRUE(read.has_value());
  auto full = h.run(resolve_daemon_among(rows, "u1", {}, nullptr));
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(h.resolve({}, false), full->daemon_id);
  // Local, connected at 100 + 12 * 37 % 30 = 124: fleet-21 (127) is disconnected.
  EXPECT_EQ(full->daemon_id, "fleet-12");

  ASSERT_EQ(connected.size(), 8u);
  EXPECT_EQ(connected.front().id, "fleet-12");
  for (const auto& daemon : connected) {
    EXPECT_EQ(daemon.user_id, "u1");
    EXPECT_NE(daemon.status, DaemonStatus::disconnected);
    // Each candidate says what the full row says, but for the labels it does not read.
    auto row = std::find_if(rows.begin(), rows.end(),
                            [&](const DaemonRecord& r) { return r.id == daemon.id; });
    ASSERT_NE(row, rows.end()) << daemon.id;
    DaemonCandidate expected = candidate_from(*row);
    EXPECT_EQ(daemon.name, expected.name);
    EXPECT_EQ(daemon.type, expected.type);
    EXPECT_EQ(daemon.status, expected.status);
    EXPECT_EQ(daemon.connected_at_ms, expected.connected_at_ms);
    EXPECT_EQ(daemon.created_at_ms, expected.created_at_ms);
  }

  DaemonChoice theirs;
  theirs.session_daemon_id = "fleet-7";  // u2's
  auto refused = h.run(resolve_daemon(h.store, "u1", theirs, nullptr));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::not_found);
  EXPECT_EQ(refused.error().message, "session daemon \"fleet-7\" is not a daemon of user u1");
}

// Step 2 of the default cascade (spec S0.16): nothing connected and a control plane that
// manages the user's suspended daemons: the oldest suspended one is chosen, for the call to wake
// it; without one, the database fallback answers as before.
TEST(DaemonResolver, WithNothingConnectedASuspendedManagedDaemonIsChosenToWake) {
  ResolverHarness h;
  auto seeded = h.database.database().transact([](SqlTransaction& tx) -> Result<void> {
    for (const char* id : {"stale", "fresh"}) {
      auto down =
          record_daemon_status(tx, id, std::string("c-") + id, DaemonStatus::disconnected, 3);
      if (!down) return fail(down.error());
    }
    for (const char* id : {"pod-b", "pod-a"}) {
      ManagedDaemonRecord pod;
      pod.id = id;
      pod.user_id = "u1";
      pod.spec.name = id;
      pod.spec.permissions = PermissionProfile::execution;
      pod.created_at_ms = std::string(id) == "pod-b" ? 10 : 20;
      if (auto ok = insert_managed_daemon(tx, pod); !ok) return ok;
      auto read = tx.execute(
          "UPDATE managed_daemons SET observed_state = 'suspended', desired_state = 'suspended' "
          "WHERE id = $1",
          {std::string(id)});
      if (!read) return fail(read.error());
    }
    return {};
  });
  ASSERT_TRUE(seeded.has_value()) << seeded.error().message;
  auto decided = h.run(resolve_daemon(h.store, "u1", {}, nullptr));
  ASSERT_TRUE(decided.has_value()) << decided.error().message;
  EXPECT_EQ(decided->daemon_id, "pod-b") << "the oldest suspended one";
  EXPECT_EQ(decided->level, SelectionLevel::control_plane);
  // The call routed to it wants it running again, once; a daemon that is not managed is left be.
  auto noted = h.database.database().transact([](SqlTransaction& tx) -> Result<void> {
    auto first = note_call_to_daemon(tx, "pod-b", 50);
    auto again = note_call_to_daemon(tx, "pod-b", 60);
    auto local = note_call_to_daemon(tx, "fresh", 60);
    if (!first || !again || !local) return fail(ErrorCode::internal, "a write failed");
    if (!*first || *again || *local) return fail(ErrorCode::internal, "wrong answers");
    return {};
  });
  EXPECT_TRUE(noted.has_value()) << noted.error().message;
  auto row = h.run(h.store.transact_for(
      [](SqlTransaction& tx) { return owned_managed_daemon(tx, "u1", "pod-b"); }));
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->desired, DesiredState::running);
  EXPECT_EQ(row->active_at_ms, 60) << "a call is activity";
}

}  // namespace
}  // namespace reliant::routing
