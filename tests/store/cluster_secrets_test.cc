// Cluster secrets on SQLite and Postgres: the first secret drawn is kept, whoever draws after.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "services/storage/cluster_secrets.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

class ClusterSecretRows : public testing_store::MigratedBackendTest {
 protected:
  std::string secret(const std::string& name, const std::string& drawn) {
    auto value = std::make_shared<std::string>();
    auto done = transact([=](SqlTransaction& tx) -> Result<void> {
      auto got = cluster_secret(tx, name, drawn, 1);
      if (!got) return fail(got.error());
      *value = *got;
      return {};
    });
    EXPECT_TRUE(done.has_value()) << done.error().message;
    return *value;
  }
};

TEST_P(ClusterSecretRows, TheFirstDrawnSecretIsKept) {
  EXPECT_EQ(secret("managed-dial", "first"), "first");
  EXPECT_EQ(secret("managed-dial", "second"), "first");  // another replica's draw loses
  EXPECT_EQ(secret("other", "third"), "third");          // each name has its own
  EXPECT_EQ(secret("managed-dial", "fourth"), "first");
}

INSTANTIATE_TEST_SUITE_P(Backends, ClusterSecretRows, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
