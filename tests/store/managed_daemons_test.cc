// Managed daemons' rows on SQLite and Postgres: names are the user's to give once, a lease
// gives each daemon to one control plane replica until it runs out, and only the holder's
// writes land. Gateways' sweeps never expire the embedded daemon's endless lease, a restarted
// monolith releases only what its own gateway held, and a draining gateway only the connections
// it sent away that no registration has outranked since.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runtime/scope.h"
#include "services/storage/daemons.h"
#include "services/storage/managed_daemons.h"
#include "services/storage/sql_row.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

// u1's daemon `id` connected over `connection_id`.
Result<void> connect_daemon(SqlTransaction& tx, const std::string& id,
                            const std::string& connection_id) {
  DaemonRecord d;
  d.id = id;
  d.user_id = "u1";
  d.name = id.substr(3);  // id-box-a: box-a
  d.connection_id = connection_id;
  return record_daemon_connected(tx, d);
}

class ManagedDaemonRows : public testing_store::MigratedBackendTest {
 protected:
  void SetUp() override {
    MigratedBackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(add_users({"u1", "u2"}).has_value());
    for (const char* name : {"box-a", "box-b", "box-c"}) ASSERT_TRUE(create("u1", name));
  }

  Result<void> create(const std::string& user, const std::string& name) {
    ManagedDaemonRecord row;
    row.id = user == "u1" ? "id-" + name : user + "-" + name;
    row.user_id = user;
    row.spec.name = name;
    row.spec.permissions = PermissionProfile::execution;
    row.created_at_ms = 1;
    return transact([row](SqlTransaction& tx) { return insert_managed_daemon(tx, row); });
  }

  std::vector<std::string> lease(const std::string& owner, std::int64_t now_ms,
                                 std::size_t limit = 10) {
    auto held = std::make_shared<std::vector<std::string>>();
    auto done = transact([=](SqlTransaction& tx) -> Result<void> {
      auto rows = lease_managed_daemons(tx, owner, now_ms, now_ms + 1000, limit);
      if (!rows) return fail(rows.error());
      for (const auto& r : *rows) held->push_back(r.id);
      return {};
    });
    EXPECT_TRUE(done.has_value()) << done.error().message;
    return *held;
  }
};

TEST_P(ManagedDaemonRows, ANameIsTheUsersOnceAndAnotherUsersIdIsNotFound) {
  auto twice = create("u1", "box-a");
  ASSERT_FALSE(twice.has_value());
  EXPECT_EQ(twice.error().code, ErrorCode::already_exists);
  EXPECT_TRUE(create("u2", "box-a").has_value()) << "names are per user";
  auto theirs = transact([](SqlTransaction& tx) -> Result<void> {
    auto row = owned_managed_daemon(tx, "u2", "id-box-b");
    if (!row) return fail(row.error());
    return {};
  });
  ASSERT_FALSE(theirs.has_value());
  EXPECT_EQ(theirs.error().code, ErrorCode::not_found);
}

TEST_P(ManagedDaemonRows, ALeaseGivesEachDaemonToOneReplicaUntilItRunsOut) {
  EXPECT_EQ(lease("cp-1", 100, 2), (std::vector<std::string>{"id-box-a", "id-box-b"}));
  EXPECT_EQ(lease("cp-2", 200), (std::vector<std::string>{"id-box-c"}));
  EXPECT_EQ(lease("cp-1", 300, 2), (std::vector<std::string>{"id-box-a", "id-box-b"}))
      << "renewed, and nothing of cp-2's taken";
  // Only the holder's observations land.
  ObservedUpdate seen;
  seen.observed = ObservedState::running;
  seen.address = "http://box-a:9290";
  auto wrote = [&](const std::string& owner) {
    auto landed = std::make_shared<bool>(false);
    EXPECT_TRUE(transact([=](SqlTransaction& tx) -> Result<void> {
                  auto ok = record_observed(tx, "id-box-a", owner, seen, 300);
                  if (!ok) return fail(ok.error());
                  *landed = *ok;
                  return {};
                }).has_value());
    return *landed;
  };
  EXPECT_FALSE(wrote("cp-2"));
  EXPECT_TRUE(wrote("cp-1"));
  // cp-1 stops renewing: past its lease, cp-2 takes its daemons over.
  EXPECT_EQ(lease("cp-2", 1400), (std::vector<std::string>{"id-box-a", "id-box-b", "id-box-c"}));
  EXPECT_FALSE(wrote("cp-1"));
}

TEST_P(ManagedDaemonRows, IdleSuspensionLosesToActivitySinceItLooked) {
  ASSERT_EQ(lease("cp-1", 100).size(), 3u);
  ObservedUpdate idle;
  idle.observed = ObservedState::running;
  idle.desired = DesiredState::suspended;
  idle.active_at_ms = 1;  // what the round saw
  // The gateway heard the daemon serve its user since.
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                if (auto ok = connect_daemon(tx, "id-box-a", "c1"); !ok) return ok;
                auto renewed =
                    renew_daemon_leases(tx, {{"id-box-a", "c1", DaemonStatus::active, 5000, 50}});
                if (!renewed) return fail(renewed.error());
                return {};
              }).has_value());
  auto suspended = std::make_shared<std::vector<bool>>();
  ASSERT_TRUE(transact([=](SqlTransaction& tx) -> Result<void> {
                for (const char* id : {"id-box-a", "id-box-b"}) {
                  auto ok = record_observed(tx, id, "cp-1", idle, 100);
                  if (!ok) return fail(ok.error());
                  suspended->push_back(*ok);
                }
                return {};
              }).has_value());
  EXPECT_EQ(*suspended, (std::vector<bool>{false, true}));
}

// A renewal writes the status only where it differs (daemons.cc): it still restores one a sweep
// overwrote, renews the lease either way, never moves activity back, and a renewal for a
// connection that is no longer the daemon's changes nothing.
TEST_P(ManagedDaemonRows, ARenewalRestoresAnOverwrittenStatusAndOnlyForItsConnection) {
  // What `step` gives, run as a transaction of its own.
  auto run = [&](auto step) {
    using Value = typename decltype(step(std::declval<SqlTransaction&>()))::value_type;
    auto out = std::make_shared<Value>();
    auto done = transact([=](SqlTransaction& tx) -> Result<void> {
      auto value = step(tx);
      if (!value) return fail(value.error());
      *out = std::move(*value);
      return {};
    });
    EXPECT_TRUE(done.has_value()) << done.error().message;
    return *out;
  };
  auto row = [&](std::string id = "id-box-a") {
    return run([id](SqlTransaction& tx) -> Result<DaemonRecord> {
      auto found = find_daemon(tx, id);
      if (!found) return fail(found.error());
      return found->value_or(DaemonRecord{});
    });
  };
  // The lease as another gateway's sweep reads it (find_daemon does not read leases).
  auto lease_until_ms = [&] {
    return run([](SqlTransaction& tx) -> Result<std::int64_t> {
      auto leases = leased_daemons(tx, "gateway-elsewhere", 0);
      if (!leases) return fail(leases.error());
      for (const DaemonLease& lease : *leases) {
        if (lease.id == "id-box-a") return lease.lease_until_ms;
      }
      return std::int64_t{-1};
    });
  };
  const std::vector<bool> renewed{true}, not_renewed{false};
  EXPECT_EQ(run([](SqlTransaction& tx) -> Result<std::vector<bool>> {
              if (auto ok = connect_daemon(tx, "id-box-a", "c1"); !ok) return fail(ok.error());
              return renew_daemon_leases(tx, {{"id-box-a", "c1", DaemonStatus::active, 5000, 50}});
            }),
            renewed);
  EXPECT_EQ(row().status, DaemonStatus::active);
  EXPECT_EQ(row().last_activity_at_ms, 50);

  // Renewed with the status it has: the lease moves, the activity does not move back.
  EXPECT_EQ(run([](SqlTransaction& tx) {
              return renew_daemon_leases(tx, {{"id-box-a", "c1", DaemonStatus::active, 6000, 40}});
            }),
            renewed);
  EXPECT_EQ(row().status, DaemonStatus::active);
  EXPECT_EQ(lease_until_ms(), 6000);
  EXPECT_EQ(row().last_activity_at_ms, 50);

  // A sweep wrote it off; the holding gateway's next renewal puts its status back.
  EXPECT_TRUE(
      run([](SqlTransaction& tx) { return release_daemon_connection(tx, "id-box-a", "c1"); }));
  EXPECT_EQ(row().status, DaemonStatus::disconnected);
  EXPECT_EQ(run([](SqlTransaction& tx) {
              return renew_daemon_leases(tx, {{"id-box-a", "c1", DaemonStatus::idle, 7000, 70}});
            }),
            renewed);
  EXPECT_EQ(row().status, DaemonStatus::idle);
  EXPECT_EQ(row().last_activity_at_ms, 70);

  // Another connection's renewal: not the daemon's, and nothing changes.
  EXPECT_EQ(run([](SqlTransaction& tx) {
              return renew_daemon_leases(tx, {{"id-box-a", "c2", DaemonStatus::active, 9000, 90}});
            }),
            not_renewed);
  EXPECT_EQ(row().status, DaemonStatus::idle);
  EXPECT_EQ(lease_until_ms(), 7000);
  EXPECT_EQ(row().last_activity_at_ms, 70);

  // A gateway's renewals of several leases, in one transaction: each is answered in its order
  // and does what it alone would (box-b's status, which a sweep overwrote, is put back).
  EXPECT_TRUE(run([](SqlTransaction& tx) -> Result<bool> {
    if (auto ok = connect_daemon(tx, "id-box-b", "cb"); !ok) return fail(ok.error());
    return release_daemon_connection(tx, "id-box-b", "cb");
  }));
  const std::vector<LeaseRenewal> renewals{{"id-box-a", "c1", DaemonStatus::active, 8000, 80},
                                           {"id-box-b", "cb", DaemonStatus::idle, 8000, 0},
                                           {"id-box-a", "c2", DaemonStatus::idle, 9000, 90}};
  EXPECT_EQ(run([&](SqlTransaction& tx) { return renew_daemon_leases(tx, renewals); }),
            (std::vector<bool>{true, true, false}));
  EXPECT_EQ(row().status, DaemonStatus::active);
  EXPECT_EQ(lease_until_ms(), 8000);
  EXPECT_EQ(row().last_activity_at_ms, 80);
  EXPECT_EQ(row("id-box-b").status, DaemonStatus::idle);
  EXPECT_EQ(row("id-box-b").last_activity_at_ms, std::nullopt);
}

TEST_P(ManagedDaemonRows, ADeletedDaemonsRowsGoOnlyWhenItsHolderRemovedIt) {
  ASSERT_EQ(lease("cp-1", 100).size(), 3u);
  auto remove = [&](const std::string& owner) {
    auto removed = std::make_shared<bool>(false);
    EXPECT_TRUE(transact([=](SqlTransaction& tx) -> Result<void> {
                  auto ok = delete_managed_daemon(tx, "id-box-a", owner);
                  if (!ok) return fail(ok.error());
                  *removed = *ok;
                  return {};
                }).has_value());
    return *removed;
  };
  EXPECT_FALSE(remove("cp-1")) << "not wanted deleted";
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                auto row = set_desired_state(tx, "id-box-a", DesiredState::deleted, 200);
                if (!row) return fail(row.error());
                return {};
              }).has_value());
  EXPECT_FALSE(remove("cp-2"));
  EXPECT_TRUE(remove("cp-1"));
  auto left = std::make_shared<std::size_t>(0);
  ASSERT_TRUE(transact([=](SqlTransaction& tx) -> Result<void> {
                auto rows = list_daemons(tx, "u1");
                if (!rows) return fail(rows.error());
                *left = rows->size();
                return {};
              }).has_value());
  EXPECT_EQ(*left, 2u);
}

// What the per-user limit counts: a user's daemons not wished deleted, none of another user's
// (on Postgres behind the user's row lock, which this runs through).
TEST_P(ManagedDaemonRows, CountsAUsersDaemonsThatAreNotDeleted) {
  auto counts = std::make_shared<std::vector<std::int64_t>>();
  auto count_all = [&] {
    counts->clear();
    ASSERT_TRUE(transact([=, dialect = store_->dialect()](SqlTransaction& tx) -> Result<void> {
                  for (const char* user : {"u1", "u2"}) {
                    auto live = count_live_managed_daemons(tx, dialect, user);
                    if (!live) return fail(live.error());
                    counts->push_back(*live);
                  }
                  return {};
                }).has_value());
  };
  count_all();
  EXPECT_EQ(*counts, (std::vector<std::int64_t>{3, 0}));
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                auto row = set_desired_state(tx, "id-box-b", DesiredState::deleted, 200);
                if (!row) return fail(row.error());
                return {};
              }).has_value());
  ASSERT_TRUE(create("u2", "box-z").has_value());
  count_all();
  EXPECT_EQ(*counts, (std::vector<std::int64_t>{2, 1}));
}

// Two creations at once for a user one short of the limit, on two connections: the second waits
// for the first's count (the user's row lock) and then counts its daemon, so exactly one passes.
// Without the lock the second would count what the first had not committed, and both would pass.
TEST_P(ManagedDaemonRows, TwoCreationsAtOnceCannotBothPassTheLimit) {
  if (GetParam() != "postgres") GTEST_SKIP() << "SQLite has one writer at a time";
  constexpr std::int64_t kLimit = 4;  // u1 has 3
  auto other = backend_->open(executor_);
  ASSERT_NE(other, nullptr);
  const auto row = [](const std::string& name) {
    ManagedDaemonRecord r;
    r.id = "id-" + name;
    r.user_id = "u1";
    r.spec.name = name;
    r.created_at_ms = 2;
    return r;
  };
  std::atomic<bool> first_inserted = false;
  std::atomic<bool> second_seen_waiting = false;
  // The first creation holds its transaction open until another backend waits for a lock (at
  // most two seconds: without the lock nothing ever waits).
  TransactionBody first = [&, r = row("box-d")](SqlTransaction& tx) -> Result<void> {
    if (auto ok = insert_managed_daemon_within_limit(tx, SqlDialect::postgres, r, kLimit); !ok)
      return ok;
    first_inserted = true;
    for (int polls = 0; polls < 200 && !second_seen_waiting; ++polls) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      // A transaction reads the activity once, unless told to read it again.
      auto fresh = tx.query("SELECT pg_stat_clear_snapshot()", {});
      if (!fresh) return fail(fresh.error());
      auto waiting = tx.query(
          "SELECT COUNT(*) AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
          "datname = current_database()",
          {});
      if (!waiting) return fail(waiting.error());
      second_seen_waiting = first_record(*waiting).integer("waiting") > 0;
    }
    return {};
  };
  TransactionBody second = [&, r = row("box-e")](SqlTransaction& tx) {
    while (!first_inserted) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return insert_managed_daemon_within_limit(tx, SqlDialect::postgres, r, kLimit);
  };
  std::optional<Result<void>> first_done;
  std::optional<Result<void>> second_done;
  struct Runner {
    static Task<void> run(Task<Result<void>> transaction, std::optional<Result<void>>* out) {
      *out = co_await transaction;
    }
  };
  {
    Scope scope(executor_);
    scope.spawn(Runner::run(store_->transact(first), &first_done));
    scope.spawn(Runner::run(other->transact(second), &second_done));
    executor_.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  ASSERT_TRUE(first_done && second_done);
  EXPECT_TRUE(second_seen_waiting) << "the second creation waited for the first's count";
  EXPECT_TRUE(first_done->has_value()) << first_done->error().message;
  ASSERT_FALSE(second_done->has_value()) << "both creations passed a limit of " << kLimit;
  EXPECT_EQ(second_done->error().code, ErrorCode::failed_precondition);
}

TEST_P(ManagedDaemonRows, NoGatewayExpiresALeaseWithoutEndAndARestartReleasesOnlyItsOwn) {
  // box-a as the monolith's embedded daemon holds it, box-b held by the monolith's gateway,
  // box-c by another gateway.
  const std::pair<const char*, const char*> held[] = {
      {"id-box-a", "embedded"}, {"id-box-b", "monolith"}, {"id-box-c", "gw-2"}};
  for (const auto& [id, gateway] : held) {
    DaemonRecord d;
    d.id = id;
    d.user_id = "u1";
    d.name = id;
    d.type = DaemonType::cloud;
    d.gateway_id = gateway;
    d.connected_at_ms = 100;
    d.connection_id = std::string("conn-") + id;
    d.session_id = d.connection_id;
    d.lease_until_ms = std::string(gateway) == "embedded" ? kLeaseWithoutEnd : 5'000;
    ASSERT_TRUE(transact([d](SqlTransaction& tx) { return record_daemon_connected(tx, d); }));
  }
  auto swept = std::make_shared<std::vector<std::string>>();
  auto released = std::make_shared<std::int64_t>(0);
  auto statuses = std::make_shared<std::vector<DaemonStatus>>();
  ASSERT_TRUE(transact([=](SqlTransaction& tx) -> Result<void> {
    auto leases = leased_daemons(tx, "monolith", 10'000);
    if (!leases) return fail(leases.error());
    for (const auto& lease : *leases) swept->push_back(lease.id);
    auto count = release_daemons_of_gateway(tx, "monolith");
    if (!count) return fail(count.error());
    *released = *count;
    for (const auto& [id, gateway] : held) {
      auto row = find_daemon(tx, id);
      if (!row) return fail(row.error());
      statuses->push_back((*row)->status);
    }
    return {};
  }));
  EXPECT_EQ(*swept, (std::vector<std::string>{"id-box-b", "id-box-c"}))
      << "its own run-out lease and another gateway's, never the embedded daemon's";
  EXPECT_EQ(*released, 1);
  EXPECT_EQ(*statuses, (std::vector<DaemonStatus>{DaemonStatus::active, DaemonStatus::disconnected,
                                                  DaemonStatus::active}));
}

TEST_P(ManagedDaemonRows, ADrainingGatewayReleasesOnlyAConnectionNothingOutrankedSince) {
  const auto connect = [this](const std::string& gateway, const std::string& connection,
                              std::uint64_t seq) {
    DaemonRecord d;
    d.id = "id-box-a";
    d.user_id = "u1";
    d.name = "box-a";
    d.gateway_id = gateway;
    d.connected_at_ms = 100;
    d.connection_id = connection;
    d.session_id = "session-1";
    d.registration_seq = seq;
    d.lease_until_ms = 5'000;
    return transact([d](SqlTransaction& tx) { return record_daemon_connected(tx, d); });
  };
  const auto release = [this](const std::string& connection) {
    auto released = std::make_shared<bool>(false);
    auto status = std::make_shared<DaemonStatus>(DaemonStatus::active);
    EXPECT_TRUE(transact([=](SqlTransaction& tx) -> Result<void> {
      auto done = release_daemon_connection(tx, "id-box-a", connection);
      if (!done) return fail(done.error());
      *released = *done;
      auto row = find_daemon(tx, "id-box-a");
      if (!row) return fail(row.error());
      *status = (*row)->status;
      return {};
    }));
    return std::pair{*released, *status};
  };
  ASSERT_TRUE(connect("gw-1", "conn-1", 1));
  EXPECT_EQ(release("conn-1"), std::pair(true, DaemonStatus::disconnected));
  EXPECT_EQ(release("conn-1"), std::pair(false, DaemonStatus::disconnected)) << "once";
  // The daemon registered with another gateway since: that connection stands.
  ASSERT_TRUE(connect("gw-2", "conn-2", 2));
  EXPECT_EQ(release("conn-1"), std::pair(false, DaemonStatus::active));
}

INSTANTIATE_TEST_SUITE_P(Backends, ManagedDaemonRows, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
