// Managed daemons over REST and gRPC (ManagedDaemonCalls), on the monolith's stack: create,
// read, list, update, suspend, resume and delete write the user's wish; bad input is refused
// with the field named and nothing written; a local daemon cannot be suspended, another user's
// daemon is not found, and AWS is refused before any provider is called. On the monolith, only
// its local user may create local daemons. A user has at most the server's limit of them.
#include <gtest/gtest.h>

#include <array>

#include "core/personal_access_token.h"
#include "protocol/codec.h"
#include "services/api/api_server.h"
#include "services/api/grpc_api.h"
#include "services/storage/accounts.h"
#include "services/storage/managed_daemons.h"
#include "services/storage/projects.h"
#include "unit/services/managed_api.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;
namespace v1 = reliant::api::v1;

TEST(ManagedDaemonCalls, RestCreatesReadsListsAndChangesTheUsersWish) {
  ManagedApi a;
  HttpResponse created = a.call(
      "POST", "/api/v1/daemons",
      R"({"name":"cloud-box","permissions":"execution","labels":{"gpu":"a100"},"commandsEnabled":true})");
  ASSERT_EQ(created.status, 201) << created.body;
  const Json daemon = a.json(created)["daemon"];
  EXPECT_EQ(daemon["type"], "cloud");
  EXPECT_EQ(daemon["status"], "disconnected");
  EXPECT_EQ(daemon["managed"]["desiredState"], "running");
  EXPECT_EQ(daemon["managed"]["observedState"], "pending");
  EXPECT_EQ(daemon["managed"]["spec"]["platform"], "local");
  EXPECT_EQ(daemon["managed"]["spec"]["commandsEnabled"], true);
  const std::string id = daemon["id"];

  const Json listed = a.json(a.call("GET", "/api/v1/daemons"))["daemons"];
  ASSERT_EQ(listed.size(), 2u) << "the local laptop and the managed box";
  EXPECT_FALSE(listed[0].contains("managed"));
  EXPECT_EQ(listed[1]["managed"]["spec"]["name"], "cloud-box");

  HttpResponse suspended = a.call("POST", "/api/v1/daemons/cloud-box/suspend");
  ASSERT_EQ(suspended.status, 200) << suspended.body;
  EXPECT_EQ(a.json(suspended)["daemon"]["managed"]["desiredState"], "suspended");
  HttpResponse resumed = a.call("POST", "/api/v1/daemons/" + id + "/resume");
  EXPECT_EQ(a.json(resumed)["daemon"]["managed"]["desiredState"], "running");
  HttpResponse updated = a.call("PATCH", "/api/v1/daemons/cloud-box",
                                R"({"name":"cloud-box","permissions":"read-only"})");
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(a.json(updated)["daemon"]["managed"]["spec"]["permissions"], "read-only");
  HttpResponse got = a.call("GET", "/api/v1/daemons/cloud-box");
  EXPECT_EQ(a.json(got)["daemon"]["id"], id);
  HttpResponse deleted = a.call("DELETE", "/api/v1/daemons/cloud-box");
  EXPECT_EQ(a.json(deleted)["daemon"]["managed"]["desiredState"], "deleted");
  EXPECT_EQ(a.call("POST", "/api/v1/daemons/cloud-box/resume").status, 404)
      << "a deleted daemon is not brought back";
}

TEST(ManagedDaemonCalls, BadInputIsRefusedWithTheReasonAndWritesNothing) {
  ManagedApi a;
  auto refused = [&](const std::string& method, const std::string& path, const std::string& body,
                     int status, const std::string& message) {
    HttpResponse response = a.call(method, path, body);
    EXPECT_EQ(response.status, status) << method << " " << path << ": " << response.body;
    EXPECT_NE(a.error(response).find(message), std::string::npos) << response.body;
  };
  refused("POST", "/api/v1/daemons",
          R"({"name":"box","platform":"mars","permissions":"execution"})", 400,
          "unknown platform \"mars\" (local, kubernetes, aws, gcp, azure)");
  refused("POST", "/api/v1/daemons", R"({"name":"box"})", 400, "permissions is required");
  refused("POST", "/api/v1/daemons", R"({"name":"box","permissions":"execution","replicas":2})",
          400, "replicas");
  refused("POST", "/api/v1/daemons", R"({"name":"box","platform":"aws","permissions":"execution"})",
          409,
          "platform aws is not supported yet (no provider was called); daemons run on: local, "
          "kubernetes");
  refused("POST", "/api/v1/daemons", R"({"name":"laptop","permissions":"execution"})", 409,
          "you have a daemon named \"laptop\" already");
  // A link is a path or one of the user's projects or worktrees: finn's project is not ada's.
  auto finns = a.m.database.database().transact([](SqlTransaction& tx) {
    return insert_project(
        tx, ProjectRecord{
                "01J9ZQ4M8W6X0RK2T3B5C7D9PR", "user-2", "theirs", "/home/finn/theirs", 1, {}});
  });
  ASSERT_TRUE(finns.has_value());
  refused(
      "POST", "/api/v1/daemons",
      R"({"name":"box","permissions":"execution","links":["/srv/data","01J9ZQ4M8W6X0RK2T3B5C7D9PR"]})",
      400, "links[1]: no project or worktree 01J9ZQ4M8W6X0RK2T3B5C7D9PR of yours");
  EXPECT_EQ(a.managed_rows(), 0u);
  refused("POST", "/api/v1/daemons/laptop/suspend", "", 409,
          "is a local daemon its user runs; only managed daemons can be suspended");
  ASSERT_EQ(a.call("POST", "/api/v1/daemons", R"({"name":"box","permissions":"execution"})").status,
            201);
  refused("PATCH", "/api/v1/daemons/box", R"({"name":"other","permissions":"execution"})", 400,
          "keeps its name and platform");
  HttpResponse theirs = a.call("POST", "/api/v1/daemons/box/suspend", "", &a.finn);
  EXPECT_EQ(theirs.status, 404) << "another user's daemon is not found";
  EXPECT_EQ(a.call("GET", "/api/v1/daemons/box", "", &a.finn).status, 404);
}

TEST(ManagedDaemonCalls, GrpcServesTheSameCalls) {
  ManagedApi a;
  v1::CreateDaemonRequest create;
  create.mutable_spec()->set_name("grpc-box");
  create.mutable_spec()->set_permissions("execution");
  create.mutable_spec()->set_always_on(true);
  auto created = a.rpc("CreateDaemon", create);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(created->daemon().managed().spec().name(), "grpc-box");
  EXPECT_TRUE(created->daemon().managed().spec().always_on());
  v1::SuspendDaemonRequest suspend;
  suspend.set_daemon_id("grpc-box");
  auto suspended = a.rpc("SuspendDaemon", suspend);
  ASSERT_TRUE(suspended.has_value());
  EXPECT_EQ(suspended->daemon().managed().desired_state(), "suspended");
  create.mutable_spec()->set_platform("gcp");
  create.mutable_spec()->set_name("other-box");
  auto refused = a.rpc("CreateDaemon", create);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::failed_precondition);
  v1::GetDaemonRequest laptop;
  laptop.set_daemon_id("laptop");
  auto local = a.rpc("GetDaemon", laptop);
  ASSERT_TRUE(local.has_value()) << "any of the user's daemons can be read";
  EXPECT_FALSE(local->daemon().has_managed());
}

TEST(ManagedDaemonCalls, OnTheMonolithOnlyTheLocalUserCreatesLocalDaemons) {
  api::ApiConfig config;
  config.managed_daemons.platforms = {DaemonPlatform::local};
  config.managed_daemons.local_platform_user = "user-1";
  ManagedApi a(config);
  const std::string body = R"({"name":"box","permissions":"execution"})";
  HttpResponse theirs = a.call("POST", "/api/v1/daemons", body, &a.finn);
  EXPECT_EQ(theirs.status, 403) << theirs.body;
  EXPECT_NE(a.error(theirs).find("only its local user may create them"), std::string::npos)
      << theirs.body;
  HttpResponse pod = a.call("POST", "/api/v1/daemons",
                            R"({"name":"pod","platform":"kubernetes","permissions":"execution"})");
  EXPECT_EQ(pod.status, 409) << pod.body;
  EXPECT_NE(a.error(pod).find("platform kubernetes is not configured on this control plane; "
                              "daemons run on: local"),
            std::string::npos)
      << pod.body;
  EXPECT_EQ(a.managed_rows(), 0u);
  HttpResponse mine = a.call("POST", "/api/v1/daemons", body);
  EXPECT_EQ(mine.status, 201) << mine.body;
  EXPECT_EQ(a.managed_rows(), 1u);
}

// Each managed daemon is a process or a pod the platform runs for its user: a user may have
// per_user_max of them (deleted ones aside), and is told so past it; another user is not held
// to the first one's count.
TEST(ManagedDaemonCalls, AUserHasAtMostTheServersLimitOfManagedDaemons) {
  api::ApiConfig config;
  config.managed_daemons.per_user_max = 2;
  config.managed_daemons.platforms = {DaemonPlatform::local};
  ManagedApi a(config);
  auto create = [&](const std::string& name, const std::string* token = nullptr) {
    return a.call("POST", "/api/v1/daemons",
                  R"({"name":")" + name + R"(","permissions":"execution"})", token);
  };
  ASSERT_EQ(create("one").status, 201);
  ASSERT_EQ(create("two").status, 201);
  HttpResponse third = create("three");
  EXPECT_EQ(third.status, 409) << third.body;
  EXPECT_EQ(a.error(third),
            "you are at this server's limit of managed daemons for one user (2): delete one first");
  EXPECT_EQ(a.managed_rows(), 2u);
  EXPECT_EQ(create("finns", &a.finn).status, 201) << "another user's count is their own";
  ASSERT_EQ(a.call("DELETE", "/api/v1/daemons/two").status, 200);
  EXPECT_EQ(create("three").status, 201) << "a deleted daemon counts no more";
}

}  // namespace
}  // namespace reliant::agent
