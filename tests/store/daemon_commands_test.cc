// The command queue's rows on SQLite and Postgres: commands are handed out oldest first, each to
// one poll, again only once their lease ran out, and failed after kCommandDeliveriesMax
// deliveries; a report ends a delivered command once; a daemon's pending commands are bounded
// and its ended ones pruned to the newest; the token hash is the managed daemon's.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "services/storage/accounts.h"
#include "services/storage/daemon_commands.h"
#include "services/storage/managed_daemons.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

class DaemonCommandRows : public testing_store::MigratedBackendTest {
 protected:
  void SetUp() override {
    MigratedBackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                  if (auto ok = insert_user(tx, User{"u1", "u1@example.com", "", 1}); !ok)
                    return ok;
                  ManagedDaemonRecord row;
                  row.id = "d1";
                  row.user_id = "u1";
                  row.spec.name = "worker";
                  row.spec.permissions = PermissionProfile::execution;
                  row.spec.commands_enabled = true;
                  return insert_managed_daemon(tx, row);
                }).has_value());
  }

  Result<void> send(const std::string& id, std::int64_t run_time_ms = 1000) {
    CommandRecord c;
    c.id = id;
    c.daemon_id = "d1";
    c.user_id = "u1";
    c.name = CommandName::run_tool;
    c.args_json = R"({"tool":"bash"})";
    c.run_time_ms = run_time_ms;
    c.created_at_ms = 1;
    return transact([c](SqlTransaction& tx) { return insert_command(tx, c); });
  }
  // The id of the command a poll at `now_ms` takes; empty when none.
  std::string claim(std::int64_t now_ms) {
    auto taken = std::make_shared<std::string>();
    auto done = transact([=](SqlTransaction& tx) -> Result<void> {
      auto c = claim_command(tx, "d1", now_ms);
      if (!c) return fail(c.error());
      if (*c) *taken = (*c)->id;
      return {};
    });
    EXPECT_TRUE(done.has_value()) << done.error().message;
    return *taken;
  }
  Result<bool> complete(const std::string& id, bool ok) {
    auto recorded = std::make_shared<bool>(false);
    auto done = transact([=](SqlTransaction& tx) -> Result<void> {
      auto r = complete_command(tx, "d1", id, ok, ok ? R"({"a":1})" : "", ok ? "" : "no", 5);
      if (!r) return fail(r.error());
      *recorded = *r;
      return {};
    });
    if (!done) return fail(done.error());
    return *recorded;
  }
  CommandRecord read(const std::string& id) {
    auto out = std::make_shared<CommandRecord>();
    auto done = transact([=](SqlTransaction& tx) -> Result<void> {
      auto c = owned_command(tx, "u1", "d1", id);
      if (!c) return fail(c.error());
      *out = *c;
      return {};
    });
    EXPECT_TRUE(done.has_value()) << done.error().message;
    return *out;
  }
};

TEST_P(DaemonCommandRows, CommandsAreHandedOutInOrderOnceUntilTheirLeaseRunsOut) {
  ASSERT_TRUE(send("c1"));
  ASSERT_TRUE(send("c2"));
  EXPECT_EQ(claim(100), "c1");
  EXPECT_EQ(claim(100), "c2");
  EXPECT_EQ(claim(100), "") << "both are the daemon's now";
  const std::int64_t lease_ms = 1000 + to_ms(kCommandAnswerGrace);
  EXPECT_EQ(read("c1").lease_until_ms, 100 + lease_ms);
  ASSERT_EQ(complete("c2", true), true);
  EXPECT_EQ(claim(100 + lease_ms), "c1") << "its lease ran out: handed out again";
  EXPECT_EQ(read("c1").deliveries, 2);
  EXPECT_EQ(read("c2").state, CommandState::succeeded);
  EXPECT_EQ(read("c2").result_json, R"({"a":1})");
  EXPECT_EQ(complete("c2", false), false) << "a repeated report changes nothing";
  EXPECT_EQ(read("c2").state, CommandState::succeeded);
  std::int64_t now = 100 + lease_ms;
  for (std::int64_t d = 3; d <= kCommandDeliveriesMax; ++d) {
    now += lease_ms;
    EXPECT_EQ(claim(now), "c1");
  }
  EXPECT_EQ(claim(now + lease_ms), "") << "never answered: it fails instead";
  EXPECT_EQ(read("c1").state, CommandState::failed);
  EXPECT_NE(read("c1").error.find("never answered"), std::string::npos);
  auto unknown = complete("c9", true);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
}

TEST_P(DaemonCommandRows, PendingCommandsAreBoundedAndEndedOnesPruned) {
  for (std::size_t i = 0; i < kCommandsPendingPerDaemonMax; ++i) {
    ASSERT_TRUE(send("p" + std::to_string(1000 + i)));
  }
  auto full = send("p9999");
  ASSERT_FALSE(full.has_value());
  EXPECT_EQ(full.error().code, ErrorCode::resource_exhausted);
  for (std::size_t i = 0; i < kCommandsPendingPerDaemonMax; ++i) {
    const std::string id = claim(1);
    ASSERT_FALSE(id.empty());
    ASSERT_TRUE(complete(id, true));
  }
  ASSERT_TRUE(send("q1"));
  auto count = std::make_shared<std::size_t>(0);
  ASSERT_TRUE(transact([count](SqlTransaction& tx) -> Result<void> {
                auto rows = list_commands(tx, "d1", 1000);
                if (!rows) return fail(rows.error());
                *count = rows->size();
                return {};
              }).has_value());
  EXPECT_EQ(*count, kCommandsKeptPerDaemonMax + 1) << "the newest ended ones and the new one";
}

TEST_P(DaemonCommandRows, TheTokenHashIsTheManagedDaemons) {
  auto hash = std::make_shared<std::optional<std::string>>();
  auto read_hash = [&] {
    return transact([hash](SqlTransaction& tx) -> Result<void> {
      auto h = commands_token_hash(tx, "d1");
      if (!h) return fail(h.error());
      *hash = *h;
      return {};
    });
  };
  ASSERT_TRUE(read_hash().has_value());
  EXPECT_FALSE(hash->has_value()) << "none before its first start";
  ASSERT_TRUE(transact([](SqlTransaction& tx) {
                return set_commands_token_hash(tx, "d1", "h1");
              }).has_value());
  ASSERT_TRUE(read_hash().has_value());
  EXPECT_EQ(*hash, "h1");
  auto nobody =
      transact([](SqlTransaction& tx) { return set_commands_token_hash(tx, "nobody", "h"); });
  ASSERT_FALSE(nobody.has_value());
  EXPECT_EQ(nobody.error().code, ErrorCode::not_found);
}

INSTANTIATE_TEST_SUITE_P(Backends, DaemonCommandRows, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
