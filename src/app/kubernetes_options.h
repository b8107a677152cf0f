// The control plane's Kubernetes flags and, from them, its Kubernetes platform: the provisioner
// over an outbound HTTP client. Inside a cluster, the pod's service account gives the defaults:
// the API server from KUBERNETES_SERVICE_HOST/PORT, its token (read anew for each call: the
// cluster rotates it), its CA and its namespace.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/llm/outbound_http.h"
#include "services/control_plane/kubernetes_provisioner.h"

namespace reliant {

struct KubernetesFlags {
  std::string api_url;
  std::string namespace_name;
  std::string token_file;
  std::string ca_file;
  std::string image;
  std::string storage = "10Gi";
  std::string storage_class;
};

void add_kubernetes_flags(CLI::App& command, KubernetesFlags& flags);

struct KubernetesPlatform {
  std::unique_ptr<llm::OutboundHttpClient> http;
  std::unique_ptr<control_plane::KubernetesProvisioner> provisioner;
  std::string describe;  // for the start-up log
};

// The platform when an API server is known (--kubernetes-api-url, or the cluster this runs in);
// nullopt otherwise. Fails when a file it names cannot be read.
Result<std::optional<KubernetesPlatform>> kubernetes_platform(AsioExecutor& executor,
                                                              const KubernetesFlags& flags);

}  // namespace reliant
