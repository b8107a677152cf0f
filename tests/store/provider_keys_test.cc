// Provider keys on SQLite and Postgres: what is stored is sealed (the key is nowhere in the
// row), opens for its own user and provider only, is replaced whole, and a key sealed under
// another secrets key is named as such. And spawned agents' rows list with their runs' status.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/sealed_box.h"
#include "runtime/random.h"
#include "services/storage/provider_keys.h"
#include "services/storage/spawned_agents.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

SealKey key_of(std::uint8_t fill) {
  SealKey key;
  key.bytes.fill(fill);
  return key;
}

class ProviderKeyRows : public testing_store::MigratedBackendTest {
 protected:
  void SetUp() override {
    MigratedBackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(add_users({"u1", "u2"}).has_value());
  }

  void put(const SealKey& key, const std::string& user, const std::string& provider,
           const std::string& api_key) {
    auto done = transact([&](SqlTransaction& tx) {
      return put_provider_key(tx, key, secrets_, user, provider, api_key, 5);
    });
    ASSERT_TRUE(done.has_value()) << done.error().message;
  }
  Result<std::optional<std::string>> open(const SealKey& key, const std::string& user,
                                          const std::string& provider) {
    auto out = std::make_shared<Result<std::optional<std::string>>>(std::optional<std::string>());
    auto done = transact([&](SqlTransaction& tx) -> Result<void> {
      *out = open_provider_key(tx, key, user, provider);
      return {};
    });
    EXPECT_TRUE(done.has_value());
    return *out;
  }

  Random random_{7};
  SeededSecretSource secrets_{random_};
};

TEST_P(ProviderKeyRows, AKeyIsSealedAndOpensForItsOwnUserAndProviderOnly) {
  const SealKey server = key_of(1);
  put(server, "u1", "anthropic", "sk-ant-secret-one");
  put(server, "u2", "anthropic", "sk-ant-secret-two");
  auto raw = std::make_shared<std::string>();
  ASSERT_TRUE(transact([&](SqlTransaction& tx) -> Result<void> {
                auto rows = tx.query("SELECT sealed FROM provider_keys", {});
                if (!rows) return fail(rows.error());
                for (const auto& row : records(*rows)) *raw += row.text("sealed");
                return {};
              }).has_value());
  EXPECT_EQ(raw->find("secret"), std::string::npos) << "stored in the clear";
  EXPECT_EQ(open(server, "u1", "anthropic")->value_or(""), "sk-ant-secret-one");
  EXPECT_EQ(open(server, "u2", "anthropic")->value_or(""), "sk-ant-secret-two");
  EXPECT_FALSE(open(server, "u1", "openai")->has_value());

  // Replaced whole; a row copied onto another user's does not open there.
  put(server, "u1", "anthropic", "sk-ant-secret-three");
  EXPECT_EQ(open(server, "u1", "anthropic")->value_or(""), "sk-ant-secret-three");
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                auto copied = tx.execute(
                    "UPDATE provider_keys SET sealed = (SELECT sealed FROM provider_keys WHERE "
                    "user_id = 'u1') WHERE user_id = 'u2'",
                    {});
                if (!copied) return fail(copied.error());
                return {};
              }).has_value());
  auto swapped = open(server, "u2", "anthropic");
  ASSERT_FALSE(swapped.has_value());
  EXPECT_EQ(swapped.error().code, ErrorCode::failed_precondition);
  EXPECT_NE(swapped.error().message.find("does not open"), std::string::npos);

  // Another secrets key: named, not tried.
  auto other = open(key_of(2), "u1", "anthropic");
  ASSERT_FALSE(other.has_value());
  EXPECT_NE(other.error().message.find("sealed under another server secrets key"),
            std::string::npos);

  auto deleted = std::make_shared<bool>(false);
  ASSERT_TRUE(transact([&](SqlTransaction& tx) -> Result<void> {
                auto gone = delete_provider_key(tx, "u1", "anthropic");
                if (!gone) return fail(gone.error());
                *deleted = *gone;
                return {};
              }).has_value());
  EXPECT_TRUE(*deleted);
  EXPECT_FALSE(open(server, "u1", "anthropic")->has_value());
}

TEST_P(ProviderKeyRows, SpawnedAgentsListWithTheirRunsStatus) {
  auto listed = std::make_shared<std::vector<SpawnedAgentRecord>>();
  ASSERT_TRUE(
      transact([&](SqlTransaction& tx) -> Result<void> {
        for (const char* id : {"r-1-0", "r-2-0"}) {
          if (auto ok = insert_spawned_agent(
                  tx, {id, "r", "u1", "c", std::string("agent:") + id, "general", id, 3, "", 0});
              !ok)
            return ok;
        }
        auto agents = list_spawned_agents(tx, "r");
        if (!agents) return fail(agents.error());
        *listed = std::move(*agents);
        return {};
      }).has_value());
  ASSERT_EQ(listed->size(), 2U);
  // Their runs are gone (never started here): they read as cancelled, not running.
  EXPECT_EQ((*listed)[0].status, "cancelled");
  EXPECT_EQ((*listed)[1].thread, "agent:r-2-0");
}

INSTANTIATE_TEST_SUITE_P(Backends, ProviderKeyRows, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
