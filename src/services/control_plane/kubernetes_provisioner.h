// KubernetesProvisioner: managed daemons as objects on a Kubernetes cluster (spec S4.2), through
// its API server over the HttpClient port. Start applies the daemon's objects
// (core/kubernetes_objects.h) with server-side apply, so applying them again changes nothing;
// stop scales its Deployment to zero (its claim keeps its files); remove deletes the three
// objects; observe reads the Deployment. The cluster restarts a pod that exits, so a daemon is
// seen starting or running, never exited. Every call ends within `call_timeout`.
#pragma once

#include <functional>
#include <string>

#include "core/kubernetes_objects.h"
#include "core/provisioner.h"
#include "runtime/http_client.h"
#include "runtime/http_exchange.h"

namespace reliant::control_plane {

struct KubernetesApiConfig {
  std::string server_url;  // https://kubernetes.default.svc, or an API server's URL
  // The bearer token for each call (a service account's, which the cluster rotates: the
  // caller reads it anew); empty: none.
  std::function<Result<std::string>()> bearer_token;
  Duration call_timeout = seconds(10);
  std::string field_manager = "reliant-control-plane";
};

class KubernetesProvisioner final : public Provisioner {
 public:
  // `http` outlives this.
  KubernetesProvisioner(HttpClient& http, KubernetesApiConfig api, KubernetesPlacement place);

  DaemonPlatform platform() const override { return DaemonPlatform::kubernetes; }
  // An image is needed (the daemon's or the placement's); a binary cannot run in a pod.
  Result<void> preflight(const ManagedDaemonSpec& spec) const override;
  Task<Result<ProvisionedDaemon>> observe(std::string daemon_id) override;
  Task<Result<ProvisionedDaemon>> start(DaemonDeployment deployment) override;
  Task<Result<void>> stop(std::string daemon_id) override;
  Task<Result<void>> remove(std::string daemon_id) override;

 private:
  Task<Result<HttpClientAnswer>> call(std::string method, std::string path,
                                      std::string content_type, std::string body);
  Task<Result<void>> apply(std::string path, const nlohmann::json& object);
  std::string path_of(std::string_view kind, std::string_view daemon_id) const;

  HttpClient& http_;
  KubernetesApiConfig api_;
  KubernetesPlacement place_;
};

}  // namespace reliant::control_plane
