// What a managed daemon is on Kubernetes (spec S4.2), as the objects its provisioner applies:
// a PersistentVolumeClaim that keeps its home and workspace while it is suspended, a
// single-replica Deployment (scaled to zero when suspended) whose pod runs `reliant daemon start
// --managed`, a ClusterIP Service the gateways dial, and — commands enabled — a Secret with the
// token it polls its commands with. The pod holds no credentials (spec
// S0.12): no service account token is mounted, and its identity is the gateway's to stamp.
// Pure: same deployment and placement, same objects, so applying them again changes nothing.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/provisioner.h"

namespace reliant {

struct KubernetesPlacement {
  std::string namespace_name = "reliant";
  std::string image;  // the daemon's image when its spec names none (code.image)
  int port = 9290;    // where the daemon listens in its pod, and the Service's port
  std::string storage = "10Gi";
  std::string storage_class;  // empty: the cluster's default
};

struct KubernetesObjects {
  nlohmann::json volume_claim;
  nlohmann::json deployment;
  nlohmann::json service;
  // The Secret holding the daemon's dial key and, with commands enabled, its commands token,
  // which its pod reads into RELIANT_DIAL_KEY and RELIANT_COMMANDS_TOKEN (never in the Deployment
  // itself); null when it has neither.
  nlohmann::json secret;
};

// "reliant-daemon-" and the id in lower case: a DNS-1035 label (ids are 26 characters of
// Crockford base32), the name of each of the daemon's objects.
std::string kubernetes_name(std::string_view daemon_id);
// Where a gateway dials it: its Service in the cluster's DNS.
std::string kubernetes_address(std::string_view daemon_id, const KubernetesPlacement& place);
// `running`: one replica, else none (suspended: its claim stays).
KubernetesObjects kubernetes_objects(const DaemonDeployment& d, const KubernetesPlacement& place,
                                     bool running);

}  // namespace reliant
