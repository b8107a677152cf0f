// The Kubernetes provisioner against a stand-in API server (an HttpClient that keeps objects by
// path, as the API server would for these calls): start applies the claim, the Service and the
// Deployment with server-side apply and a bearer token; observe follows the pod from starting to
// running; stop scales to zero and keeps the claim; start again applies the same objects; remove
// deletes all three, twice without harm. The API server's refusals keep its reason, an id that is
// not one never reaches a path, and preflight refuses a binary or a missing image.
#include "services/control_plane/kubernetes_provisioner.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "runtime/sleep.h"
#include "sim/one_node.h"
#include "unit/support/kubernetes_box.h"

namespace reliant::control_plane {
namespace {

using Json = nlohmann::json;

struct Call {
  std::string method;
  std::string path;  // with its query
  std::string content_type;
  std::string authorization;
};

// The API server, for the three kinds this provisioner writes. A Deployment's pod becomes ready
// when the test says so (`ready`).
class StandInApiServer final : public HttpClient {
 public:
  explicit StandInApiServer(Executor& executor) : executor_(executor) {}
  std::map<std::string, Json> objects;  // by path, without its query
  std::vector<Call> calls;
  bool ready = false;
  int refuse_with = 0;  // set: every call answers this status with a Status message

  Task<Result<HttpClientHead>> send(HttpClientRequest request,
                                    std::function<void(const HttpClientHead&)> on_head,
                                    std::function<bool(std::string_view)> on_body) override {
    Call call{request.method, request.url.substr(std::string_view(kServer).size()), "", ""};
    for (const auto& [name, value] : request.headers) {
      if (name == "Content-Type") call.content_type = value;
      if (name == "Authorization") call.authorization = value;
    }
    calls.push_back(call);
    Sleep network = sleep(executor_, milliseconds(1));
    co_await network;
    auto [status, body] = answer(call, request.body);
    HttpClientHead head{status, {{"content-type", "application/json"}}};
    on_head(head);
    on_body(body.dump());
    co_return head;
  }

  static constexpr std::string_view kServer = "https://api.cluster.test";

 private:
  std::pair<int, Json> answer(const Call& call, const std::string& body) {
    if (refuse_with != 0) {
      return {refuse_with, {{"kind", "Status"}, {"message", "deployments.apps is forbidden"}}};
    }
    const std::string path = call.path.substr(0, call.path.find('?'));
    const auto found = objects.find(path);
    if (call.method == "GET" || call.method == "DELETE") {
      if (found == objects.end()) return {404, {{"kind", "Status"}, {"message", "not found"}}};
      Json object = found->second;
      if (call.method == "DELETE") objects.erase(found);
      return {200, with_status(object)};
    }
    if (call.content_type == "application/apply-patch+yaml") {
      objects[path] = Json::parse(body);
      return {200, with_status(objects[path])};
    }
    if (found == objects.end()) return {404, {{"kind", "Status"}, {"message", "not found"}}};
    found->second.merge_patch(Json::parse(body));
    return {200, with_status(found->second)};
  }
  Json with_status(Json object) const {
    if (object.value("kind", "") != "Deployment") return object;
    const int replicas = object["spec"].value("replicas", 1);
    object["status"] = {{"replicas", replicas}, {"readyReplicas", ready ? replicas : 0}};
    if (!ready && replicas > 0) {
      object["status"]["conditions"] =
          Json::array({{{"type", "Available"},
                        {"status", "False"},
                        {"message", "Deployment does not have minimum availability."}}});
    }
    return object;
  }

  Executor& executor_;
};

struct Cluster {
  sim::OneNode node{11, 12};
  StandInApiServer api{node.executor};
  KubernetesProvisioner provisioner{api, config(), place()};
  static KubernetesApiConfig config() {
    KubernetesApiConfig c;
    c.server_url = std::string(StandInApiServer::kServer);
    c.bearer_token = [] { return Result<std::string>("sa-token"); };
    return c;
  }
  static KubernetesPlacement place() { return testing::team_cluster(); }
  static DaemonDeployment box() { return testing::kubernetes_box(); }
};

constexpr std::string_view kDeployment =
    "/apis/apps/v1/namespaces/team-a/deployments/reliant-daemon-01j9zq4m8w6x0rk2t3b5c7d9ef";
constexpr std::string_view kService =
    "/api/v1/namespaces/team-a/services/reliant-daemon-01j9zq4m8w6x0rk2t3b5c7d9ef";
constexpr std::string_view kClaim =
    "/api/v1/namespaces/team-a/persistentvolumeclaims/reliant-daemon-01j9zq4m8w6x0rk2t3b5c7d9ef";

TEST(KubernetesProvisioner, AppliesStartsStopsAndRemovesADaemonsObjects) {
  Cluster c;
  auto absent = c.node.run(c.provisioner.observe("01J9ZQ4M8W6X0RK2T3B5C7D9EF"));
  ASSERT_TRUE(absent.has_value()) << absent.error().message;
  EXPECT_EQ(absent->presence, PodState::absent);

  auto started = c.node.run(c.provisioner.start(Cluster::box()));
  ASSERT_TRUE(started.has_value()) << started.error().message;
  EXPECT_EQ(started->address, "http://reliant-daemon-01j9zq4m8w6x0rk2t3b5c7d9ef.team-a.svc:9290");
  ASSERT_EQ(c.api.calls.size(), 4u);
  const std::string apply_query = "?fieldManager=reliant-control-plane&force=true";
  EXPECT_EQ(c.api.calls[1].path, std::string(kClaim) + apply_query) << "the claim first";
  EXPECT_EQ(c.api.calls[2].path, std::string(kService) + apply_query);
  EXPECT_EQ(c.api.calls[3].path, std::string(kDeployment) + apply_query);
  for (const Call& call : c.api.calls) EXPECT_EQ(call.authorization, "Bearer sa-token");
  EXPECT_EQ(c.api.calls[3].content_type, "application/apply-patch+yaml");
  EXPECT_EQ(c.api.objects[std::string(kDeployment)]["spec"]["replicas"], 1);

  auto starting = c.node.run(c.provisioner.observe("01J9ZQ4M8W6X0RK2T3B5C7D9EF"));
  ASSERT_TRUE(starting.has_value());
  EXPECT_EQ(starting->presence, PodState::starting);
  EXPECT_EQ(starting->detail, "Available: Deployment does not have minimum availability.");
  c.api.ready = true;
  auto running = c.node.run(c.provisioner.observe("01J9ZQ4M8W6X0RK2T3B5C7D9EF"));
  EXPECT_EQ(running->presence, PodState::running);
  EXPECT_EQ(running->address, started->address);

  ASSERT_TRUE(c.node.run(c.provisioner.stop("01J9ZQ4M8W6X0RK2T3B5C7D9EF")).has_value());
  EXPECT_EQ(c.api.objects[std::string(kDeployment)]["spec"]["replicas"], 0);
  EXPECT_EQ(c.api.calls.back().content_type, "application/merge-patch+json");
  EXPECT_EQ(c.node.run(c.provisioner.observe("01J9ZQ4M8W6X0RK2T3B5C7D9EF"))->presence,
            PodState::absent);
  EXPECT_TRUE(c.api.objects.contains(std::string(kClaim))) << "a suspended daemon keeps its files";

  const Json before = c.api.objects[std::string(kService)];
  // Started again with commands: its token's Secret too, before the Deployment.
  DaemonDeployment commanded = Cluster::box();
  commanded.commands_url = "https://api:8080";
  commanded.commands_token = "rlnt_cmd_01J9ZQ4M8W6X0RK2T3B5C7D9EF.secret";
  const std::string secret =
      "/api/v1/namespaces/team-a/secrets/reliant-daemon-01j9zq4m8w6x0rk2t3b5c7d9ef";
  ASSERT_TRUE(c.node.run(c.provisioner.start(commanded)).has_value());
  EXPECT_EQ(c.api.objects[secret]["stringData"]["token"], commanded.commands_token);
  ASSERT_TRUE(c.node.run(c.provisioner.start(Cluster::box())).has_value());
  EXPECT_EQ(c.api.objects[std::string(kService)], before) << "applied again, the same object";
  EXPECT_EQ(c.api.objects[std::string(kDeployment)]["spec"]["replicas"], 1);

  ASSERT_TRUE(c.node.run(c.provisioner.remove("01J9ZQ4M8W6X0RK2T3B5C7D9EF")).has_value());
  EXPECT_TRUE(c.api.objects.empty());
  EXPECT_TRUE(c.node.run(c.provisioner.remove("01J9ZQ4M8W6X0RK2T3B5C7D9EF")).has_value())
      << "removing what is gone is no error";
  EXPECT_TRUE(c.node.run(c.provisioner.stop("01J9ZQ4M8W6X0RK2T3B5C7D9EF")).has_value());
}

TEST(KubernetesProvisioner, RefusalsKeepTheReasonAndBadInputNeverReachesTheServer) {
  Cluster c;
  c.api.refuse_with = 403;
  auto refused = c.node.run(c.provisioner.start(Cluster::box()));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::permission_denied);
  EXPECT_NE(refused.error().message.find("(HTTP 403): deployments.apps is forbidden"),
            std::string::npos)
      << refused.error().message;

  const std::size_t calls = c.api.calls.size();
  auto bad = c.node.run(c.provisioner.observe("../../secrets/x"));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(c.api.calls.size(), calls) << "an id that is not one never reaches a path";

  ManagedDaemonSpec binary = Cluster::box().spec;
  binary.code.binary = "/usr/bin/reliant";
  EXPECT_FALSE(c.provisioner.preflight(binary).has_value());
  KubernetesProvisioner imageless(c.api, Cluster::config(), KubernetesPlacement{});
  auto no_image = imageless.preflight(Cluster::box().spec);
  ASSERT_FALSE(no_image.has_value());
  EXPECT_NE(no_image.error().message.find("give code.image"), std::string::npos);
  ManagedDaemonSpec own = Cluster::box().spec;
  own.code.image = "ghcr.io/acme/daemon:2";
  EXPECT_TRUE(imageless.preflight(own).has_value());
  ManagedDaemonSpec linked = Cluster::box().spec;
  linked.links = {"/srv/data", "01J9ZQ4M8W6X0RK2T3B5C7D9PR"};
  auto project = c.provisioner.preflight(linked);
  ASSERT_FALSE(project.has_value()) << "a project's folder is out of a pod's reach";
  EXPECT_NE(project.error().message.find("link 01J9ZQ4M8W6X0RK2T3B5C7D9PR"), std::string::npos);
}

}  // namespace
}  // namespace reliant::control_plane
