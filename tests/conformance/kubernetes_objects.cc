// Prints, as one JSON array, the Kubernetes objects of a few managed daemons — a plain one
// running, one suspended with an environment, labels, path links and an image of its own in
// another namespace with a storage class, whose commands token is in a Secret — for
// tests/conformance/kubernetes_objects.sh to check against the API's schemas.
#include <iostream>
#include <tuple>

#include "core/kubernetes_objects.h"
#include "unit/support/kubernetes_box.h"

int main() {
  using namespace reliant;
  DaemonDeployment plain = testing::kubernetes_box();
  plain.spec.env.clear();
  plain.spec.labels.clear();
  KubernetesPlacement place = testing::team_cluster();
  place.namespace_name = "reliant";

  DaemonDeployment rich = plain;
  rich.daemon_id = "01J9ZQ4M8W6X0RK2T3B5C7D9GH";
  rich.spec.name = "gpu-box";
  rich.spec.permissions = PermissionProfile::read_only;
  rich.spec.env = {{"ANTHROPIC_BASE_URL", "https://proxy.internal"}, {"LOG_LEVEL", "debug"}};
  rich.spec.labels = {{"gpu", "a100"}, {"pool", "cloud"}};
  rich.spec.links = {"/srv/datasets", "/srv/models"};
  rich.spec.code.image = "ghcr.io/acme/daemon@sha256:0123456789abcdef";
  rich.spec.commands_enabled = true;
  rich.commands_url = "https://api.team-a.svc:8080";
  rich.commands_token =
      "rlnt_cmd_01J9ZQ4M8W6X0RK2T3B5C7D9GH.0123456789abcdefghijABCDEFGHIJ0123456789abc";
  KubernetesPlacement elsewhere = place;
  elsewhere.namespace_name = "team-a";
  elsewhere.storage = "50Gi";
  elsewhere.storage_class = "fast-ssd";

  nlohmann::json all = nlohmann::json::array();
  for (const auto& [deployment, placement, running] :
       {std::tuple{plain, place, true}, std::tuple{rich, elsewhere, false}}) {
    KubernetesObjects objects = kubernetes_objects(deployment, placement, running);
    all.push_back(std::move(objects.volume_claim));
    all.push_back(std::move(objects.deployment));
    all.push_back(std::move(objects.service));
    if (!objects.secret.is_null()) all.push_back(std::move(objects.secret));
  }
  std::cout << all.dump(2) << "\n";
  return 0;
}
