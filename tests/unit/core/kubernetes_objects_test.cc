// A managed daemon's Kubernetes objects: named by a DNS label from its id; one replica running,
// none suspended, with the same claim and Service either way (a suspended daemon keeps its
// files); the managed daemon's command line in its pod with its environment passed on to its
// tools; no credentials and no root in the pod; its own image over the platform's; the same
// objects for the same inputs (applying them again changes nothing).
#include "core/kubernetes_objects.h"

#include <gtest/gtest.h>

#include <regex>

#include "unit/support/kubernetes_box.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

DaemonDeployment box() {
  DaemonDeployment d = testing::kubernetes_box();
  d.user_id = "user/with:odd chars";
  return d;
}

KubernetesPlacement cluster() { return testing::team_cluster(); }

TEST(KubernetesObjects, NamesEveryObjectByADnsLabelFromTheDaemonsId) {
  const std::string name = kubernetes_name("01J9ZQ4M8W6X0RK2T3B5C7D9EF");
  EXPECT_EQ(name, "reliant-daemon-01j9zq4m8w6x0rk2t3b5c7d9ef");
  EXPECT_LE(name.size(), 63u);
  EXPECT_TRUE(std::regex_match(name, std::regex("[a-z]([-a-z0-9]*[a-z0-9])?")));
  EXPECT_EQ(kubernetes_address("01J9ZQ4M8W6X0RK2T3B5C7D9EF", cluster()),
            "http://reliant-daemon-01j9zq4m8w6x0rk2t3b5c7d9ef.team-a.svc:9290");
  const KubernetesObjects objects = kubernetes_objects(box(), cluster(), true);
  for (const Json* object : {&objects.volume_claim, &objects.deployment, &objects.service}) {
    EXPECT_EQ((*object)["metadata"]["name"], name);
    EXPECT_EQ((*object)["metadata"]["namespace"], "team-a");
    EXPECT_EQ((*object)["metadata"]["annotations"]["reliant.dev/user-id"], "user/with:odd chars")
        << "a user id rides in an annotation, which takes any text";
  }
  EXPECT_EQ(objects.service["spec"]["selector"],
            objects.deployment["spec"]["selector"]["matchLabels"]);
  EXPECT_EQ(objects.service["spec"]["selector"]["reliant.dev/daemon"], name);
}

TEST(KubernetesObjects, ASuspendedDaemonHasNoReplicaAndKeepsItsClaimAndService) {
  const KubernetesObjects running = kubernetes_objects(box(), cluster(), true);
  const KubernetesObjects suspended = kubernetes_objects(box(), cluster(), false);
  EXPECT_EQ(running.deployment["spec"]["replicas"], 1);
  EXPECT_EQ(suspended.deployment["spec"]["replicas"], 0);
  EXPECT_EQ(running.deployment["spec"]["strategy"]["type"], "Recreate")
      << "never two pods of one daemon on one claim";
  EXPECT_EQ(running.volume_claim, suspended.volume_claim);
  EXPECT_EQ(running.service, suspended.service);
  EXPECT_EQ(kubernetes_objects(box(), cluster(), true).deployment.dump(),
            running.deployment.dump());
}

TEST(KubernetesObjects, ThePodRunsTheManagedDaemonWithoutCredentialsOrRoot) {
  const Json pod =
      kubernetes_objects(box(), cluster(), true).deployment["spec"]["template"]["spec"];
  EXPECT_EQ(pod["automountServiceAccountToken"], false);
  EXPECT_EQ(pod["securityContext"]["runAsNonRoot"], true);
  const Json& container = pod["containers"][0];
  EXPECT_EQ(container["image"], "registry.example.com/reliant:0.1.0");
  EXPECT_EQ(container["securityContext"]["allowPrivilegeEscalation"], false);
  const std::vector<std::string> args = container["args"].get<std::vector<std::string>>();
  const std::vector<std::string> expected = {"daemon",
                                             "start",
                                             "--managed",
                                             "--port",
                                             "9290",
                                             "--listen-address",
                                             "0.0.0.0",
                                             "--name",
                                             "cloud-box",
                                             "--working-dir",
                                             "/workspace",
                                             "--workspace-root",
                                             "/workspace",
                                             "--permissions",
                                             "execution",
                                             "--labels",
                                             "gpu=a100,pool=cloud",
                                             "--tool-env",
                                             "LOG_LEVEL"};
  EXPECT_EQ(args, expected);
  EXPECT_EQ(container["env"], Json::parse(R"([{"name":"HOME","value":"/home/reliant"},
                                              {"name":"LOG_LEVEL","value":"debug"}])"));
  EXPECT_EQ(container["ports"][0]["containerPort"], 9290);
  EXPECT_EQ(pod["volumes"][0]["persistentVolumeClaim"]["claimName"],
            "reliant-daemon-01j9zq4m8w6x0rk2t3b5c7d9ef");
}

TEST(KubernetesObjects, ACommandsTokenIsInASecretThePodReadsNotInTheDeployment) {
  EXPECT_TRUE(kubernetes_objects(box(), cluster(), true).secret.is_null()) << "no commands";
  DaemonDeployment d = box();
  d.spec.commands_enabled = true;
  d.spec.env["RELIANT_COMMANDS_TOKEN"] = "the user's";
  d.commands_url = "https://api.team-a.svc:8080";
  d.commands_token = "rlnt_cmd_" + d.daemon_id + ".secret";
  const KubernetesObjects objects = kubernetes_objects(d, cluster(), true);
  ASSERT_FALSE(objects.secret.is_null());
  EXPECT_EQ(objects.secret["kind"], "Secret");
  EXPECT_EQ(objects.secret["metadata"]["name"], kubernetes_name(d.daemon_id));
  EXPECT_EQ(objects.secret["stringData"]["token"], d.commands_token);
  EXPECT_EQ(objects.deployment.dump().find("rlnt_cmd_"), std::string::npos);
  const Json& env = objects.deployment["spec"]["template"]["spec"]["containers"][0]["env"];
  ASSERT_FALSE(env.empty());
  EXPECT_EQ(env.back()["name"], "RELIANT_COMMANDS_TOKEN") << "last: the one the pod sees";
  EXPECT_EQ(env.back()["valueFrom"]["secretKeyRef"]["name"], kubernetes_name(d.daemon_id));
  const std::string args =
      objects.deployment["spec"]["template"]["spec"]["containers"][0]["args"].dump();
  EXPECT_NE(args.find("\"--commands-url\",\"https://api.team-a.svc:8080\""), std::string::npos);
}

TEST(KubernetesObjects, TheDialKeyIsInTheSecretThePodReadsNotInTheDeployment) {
  DaemonDeployment d = box();
  d.spec.env["RELIANT_DIAL_KEY"] = "the user's";
  d.dial_key = "dial-key-of-the-box-0123456789abcdefghijklm";
  const KubernetesObjects objects = kubernetes_objects(d, cluster(), true);
  ASSERT_FALSE(objects.secret.is_null()) << "a Secret without commands too";
  EXPECT_EQ(objects.secret["stringData"]["dial-key"], d.dial_key);
  EXPECT_FALSE(objects.secret["stringData"].contains("token"));
  EXPECT_EQ(objects.deployment.dump().find(d.dial_key), std::string::npos);
  const Json& env = objects.deployment["spec"]["template"]["spec"]["containers"][0]["env"];
  ASSERT_FALSE(env.empty());
  EXPECT_EQ(env.back()["name"], "RELIANT_DIAL_KEY") << "after the spec's: the one the pod sees";
  EXPECT_EQ(env.back()["valueFrom"]["secretKeyRef"]["key"], "dial-key");
}

TEST(KubernetesObjects, TheDaemonsOwnImageAndTheClustersStorageClassAreUsed) {
  DaemonDeployment own = box();
  own.spec.code.image = "ghcr.io/acme/daemon:2";
  KubernetesPlacement fast = cluster();
  fast.storage = "50Gi";
  fast.storage_class = "fast-ssd";
  const KubernetesObjects objects = kubernetes_objects(own, fast, true);
  EXPECT_EQ(objects.deployment["spec"]["template"]["spec"]["containers"][0]["image"],
            "ghcr.io/acme/daemon:2");
  EXPECT_EQ(objects.volume_claim["spec"]["storageClassName"], "fast-ssd");
  EXPECT_EQ(objects.volume_claim["spec"]["resources"]["requests"]["storage"], "50Gi");
  EXPECT_FALSE(
      kubernetes_objects(box(), cluster(), true).volume_claim["spec"].contains("storageClassName"))
      << "without one, the cluster's default class";
}

}  // namespace
}  // namespace reliant
