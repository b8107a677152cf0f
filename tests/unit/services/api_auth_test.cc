// Who the api lets in: personal access tokens, and JWTs of the identity provider when a key is
// configured (a user seen for the first time is created); anything else is a 401.
#include <gtest/gtest.h>

#include <array>
#include <optional>

#include "adapters/crypto/jwt_verifier.h"
#include "core/personal_access_token.h"
#include "services/api/api_server.h"
#include "services/storage/accounts.h"
#include "services/storage/migrator.h"
#include "sim/one_node.h"
#include "unit/support/jwt_signer.h"

namespace reliant::api {
namespace {

struct AuthApi : sim::OneNode {
  testing::KeyPair key{false};
  std::unique_ptr<JwtVerifier> jwt;
  std::unique_ptr<ApiServer> api;

  AuthApi() : OneNode(5, 3, "api") {
    EXPECT_TRUE(run(migrate_up(store, world.now())).has_value());
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
  AuthApi a;
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

// A JWT user seen for the first time whose email an account made another way already has: a
// clear 409, no account taken over, and none of the database's words in the answer. (The
// failed insert used to be ignored: SQLite went on without a user row; Postgres refused the
// commit and its error text reached the client.)
TEST(ApiAuthentication, AJwtWhoseEmailBelongsToAnotherAccountIsRefusedClearly) {
  AuthApi a;
  auto made = a.database.database().transact([](SqlTransaction& tx) -> Result<void> {
    return insert_user(tx, User{"local-ada", "ada@example.com", "ada", 0});
  });
  ASSERT_TRUE(made.has_value()) << made.error().message;
  const std::int64_t now_s = to_ms(a.world.now()) / 1000;
  HttpRequest request;
  request.method = "GET";
  request.path = "/api/v1/chats";
  request.headers["authorization"] = "Bearer " + a.key.token({{"sub", "idp-ada"},
                                                              {"email", "ada@example.com"},
                                                              {"aud", "authenticated"},
                                                              {"exp", now_s + 600}});
  const HttpResponse refused = a.run(a.api->handle(request));
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_NE(refused.body.find("a user with the email ada@example.com already exists"),
            std::string::npos)
      << refused.body;
  for (const char* leak : {"UNIQUE", "constraint", "INSERT", "users.email", "duplicate key"}) {
    EXPECT_EQ(refused.body.find(leak), std::string::npos) << leak << " in " << refused.body;
  }
  auto checked = a.database.database().transact([](SqlTransaction& tx) -> Result<void> {
    auto jwt_user = find_user(tx, "idp-ada");
    if (!jwt_user) return fail(jwt_user.error());
    EXPECT_FALSE(jwt_user->has_value()) << "no second account with the same email";
    auto local = find_user_by_email(tx, "ada@example.com");
    if (!local) return fail(local.error());
    EXPECT_TRUE(*local && (*local)->id == "local-ada") << "the existing account is untouched";
    return {};
  });
  EXPECT_TRUE(checked.has_value()) << checked.error().message;
  EXPECT_EQ(a.get_chats(a.jwt_for("idp-grace", now_s + 600)), 200) << "another email is fine";
}

// A JWT whose subject is the id of a user made another way (`reliant admin user create`, a
// token user) does not sign in as that user, whatever the email: only users the JWTs made (or
// from before migration 13, without a password) are theirs.
TEST(ApiAuthentication, AJwtWhoseSubjectIsATokenUsersIdDoesNotSignInAsThatUser) {
  AuthApi a;
  std::array<std::uint8_t, kPatRandomBytes> secret{};
  secret[0] = 7;
  const NewToken pat = make_token(secret, "tok-admin", "01HADMINUSER0000000000000", "cli", 0);
  auto made = a.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    if (auto ok = insert_user(tx, User{"01HADMINUSER0000000000000", "ops@example.com", "ops", 0});
        !ok) {
      return ok;
    }
    return insert_new_token(tx, pat);
  });
  ASSERT_TRUE(made.has_value()) << made.error().message;
  const std::int64_t now_s = to_ms(a.world.now()) / 1000;
  EXPECT_EQ(a.get_chats(pat.token), 200) << "the user's own token";
  for (const std::string email : {"ops@example.com", "someone@example.com"}) {
    HttpRequest request;
    request.method = "GET";
    request.path = "/api/v1/me";
    request.headers["authorization"] =
        "Bearer " + a.key.token({{"sub", "01HADMINUSER0000000000000"},
                                 {"email", email},
                                 {"aud", "authenticated"},
                                 {"exp", now_s + 600}});
    const HttpResponse answer = a.run(a.api->handle(request));
    EXPECT_EQ(answer.status, 401) << email << ": " << answer.body;
    EXPECT_EQ(answer.body.find("\"user_id\""), std::string::npos) << answer.body;
  }
  // The JWT users themselves still sign in, the first time and after.
  EXPECT_EQ(a.get_chats(a.jwt_for("idp-grace", now_s + 600)), 200);
  EXPECT_EQ(a.get_chats(a.jwt_for("idp-grace", now_s + 600)), 200);
}

// What the database says in its own words is logged, never answered: the stores mark their
// errors, and error_response keeps them out of the body.
TEST(ApiErrors, TheDatabasesOwnWordsStayInTheLog) {
  AuthApi a;
  auto duplicate = a.database.database().transact([](SqlTransaction& tx) -> Result<void> {
    auto first = tx.execute(
        "INSERT INTO users (id, email, name, created_at_ms) "
        "VALUES ('u1', 'x@example.com', 'x', 0)",
        {});
    if (!first) return fail(first.error());
    auto second = tx.execute(
        "INSERT INTO users (id, email, name, created_at_ms) "
        "VALUES ('u2', 'x@example.com', 'x', 0)",
        {});
    if (!second) return fail(second.error());
    return {};
  });
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_TRUE(duplicate.error().internal_message) << duplicate.error().message;
  const HttpResponse answer = error_response(duplicate.error());
  EXPECT_EQ(answer.status, 409);
  EXPECT_EQ(answer.body.find("UNIQUE"), std::string::npos) << answer.body;
  EXPECT_EQ(answer.body.find("INSERT"), std::string::npos) << answer.body;
  EXPECT_NE(answer.log_note.find(duplicate.error().message), std::string::npos);

  const HttpResponse internal = error_response({ErrorCode::internal, "corrupt history at seq 7"});
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("seq 7"), std::string::npos) << internal.body;
  EXPECT_NE(internal.log_note.find("seq 7"), std::string::npos);

  const HttpResponse ours = error_response({ErrorCode::not_found, "no chat c1"});
  EXPECT_NE(ours.body.find("no chat c1"), std::string::npos) << "our own messages are for clients";
  EXPECT_TRUE(ours.log_note.empty());
}

}  // namespace
}  // namespace reliant::api
