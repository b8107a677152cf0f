// A managed daemon on the kubernetes platform and a cluster to place it on, as the Kubernetes
// tests use them.
#pragma once

#include "core/kubernetes_objects.h"

namespace reliant::testing {

inline DaemonDeployment kubernetes_box() {
  DaemonDeployment d;
  d.daemon_id = "01J9ZQ4M8W6X0RK2T3B5C7D9EF";
  d.user_id = "u1";
  d.spec.name = "cloud-box";
  d.spec.platform = DaemonPlatform::kubernetes;
  d.spec.permissions = PermissionProfile::execution;
  d.spec.env = {{"LOG_LEVEL", "debug"}};
  d.spec.labels = {{"gpu", "a100"}, {"pool", "cloud"}};
  return d;
}

inline KubernetesPlacement team_cluster() {
  KubernetesPlacement place;
  place.namespace_name = "team-a";
  place.image = "registry.example.com/reliant:0.1.0";
  return place;
}

}  // namespace reliant::testing
