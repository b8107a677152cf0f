// Who the api lets in: personal access tokens, and JWTs of the identity provider when a key is
// configured (a user seen for the first time is created); anything else is a 401.
#include <gtest/gtest.h>

#include <optional>

#include "adapters/crypto/jwt_verifier.h"
#include "services/api/api_server.h"
#include "services/storage/accounts.h"
#include "services/storage/migrator.h"
#include "sim/one_node.h"
#include "unit/support/jwt_signer.h"

namespace reliant::api {
namespace {

struct Api : sim::OneNode {
  testing::KeyPair key{false};
  std::unique_ptr<JwtVerifier> jwt;
  std::unique_ptr<ApiServer> api;

  Api() : OneNode(5, 3, "api") {
    run(migrate_up(store, world.now()));
    auto made = JwtVerifier::create({key.public_pem(), "authenticated"});
    EXPECT_TRUE(made.has_value());
    jwt = std::move(*made);
    ApiConfig config;
    config.jwt = jwt.get();
    api = std::make_unique<ApiServer>(env, config);
  }
  int get_chats(const std::string& token) {
    HttpRequest request;
    request.method = "GET";
    request.path = "/api/v1/chats";
    request.headers["authorization"] = "Bearer " + token;
    return run(api->handle(std::move(request))).status;
  }
  std::string jwt_for(const std::string& sub, std::int64_t exp_s) {
    return key.token(
        {{"sub", sub}, {"email", sub + "@example.com"}, {"aud", "authenticated"}, {"exp", exp_s}});
  }
};

TEST(ApiAuthentication, AJwtOfTheIdentityProviderLetsItsUserIn) {
  Api a;
  const std::int64_t now_s = to_ms(a.world.now()) / 1000;
  EXPECT_EQ(a.get_chats(a.jwt_for("0b5e-user", now_s + 600)), 200);
  auto user = a.database.database().transact([](SqlTransaction& tx) -> Result<void> {
    auto found = find_user(tx, "0b5e-user");
    if (!found || !*found) return fail(ErrorCode::not_found, "the user was not created");
    EXPECT_EQ((*found)->email, "0b5e-user@example.com");
    return {};
  });
  EXPECT_TRUE(user.has_value()) << user.error().message;
  EXPECT_EQ(a.get_chats(a.jwt_for("0b5e-user", now_s + 600)), 200)
      << "the second time finds the user";
  EXPECT_EQ(a.get_chats(a.jwt_for("0b5e-user", now_s - 3600)), 401) << "expired";
  testing::KeyPair other{false};
  EXPECT_EQ(
      a.get_chats(other.token({{"sub", "x"}, {"aud", "authenticated"}, {"exp", now_s + 600}})), 401)
      << "signed by another key";
  EXPECT_EQ(a.get_chats("not-a-token"), 401);
  EXPECT_EQ(a.get_chats("rlnt_pat_0000000000000000000000000000000000000000000"), 401);
  EXPECT_EQ(a.get_chats(""), 401);
}

}  // namespace
}  // namespace reliant::api
