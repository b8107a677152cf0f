// The managed daemon's Kubernetes objects, built as JSON (which server-side apply takes as YAML).
#include "core/kubernetes_objects.h"

#include <cctype>

namespace reliant {
namespace {

using Json = nlohmann::json;

constexpr std::string_view kSelectorLabel = "reliant.dev/daemon";
constexpr std::string_view kHome = "/home/reliant";
constexpr std::string_view kWorkspace = "/workspace";
// The daemon's own user in its image, never root: its tools run shell commands.
constexpr int kDaemonUser = 10001;

Json metadata_of(const DaemonDeployment& d, const KubernetesPlacement& place) {
  const std::string name = kubernetes_name(d.daemon_id);
  return {{"name", name},
          {"namespace", place.namespace_name},
          {"labels",
           {{"app.kubernetes.io/name", "reliant-daemon"},
            {"app.kubernetes.io/managed-by", "reliant"},
            {std::string(kSelectorLabel), name}}},
          // Annotations, not labels: a user id need not fit a label's value.
          {"annotations",
           {{"reliant.dev/daemon-id", d.daemon_id},
            {"reliant.dev/user-id", d.user_id},
            {"reliant.dev/daemon-name", d.spec.name}}}};
}

Json container_of(const DaemonDeployment& d, const KubernetesPlacement& place) {
  Json env = Json::array({{{"name", "HOME"}, {"value", kHome}}});
  // After the spec's variables: of two same-named ones, the later one wins in a pod.
  for (const auto& [key, value] : d.spec.env) env.push_back({{"name", key}, {"value", value}});
  const auto from_secret = [&](std::string_view variable, std::string_view key) {
    env.push_back({{"name", std::string(variable)},
                   {"valueFrom",
                    {{"secretKeyRef", {{"name", kubernetes_name(d.daemon_id)}, {"key", key}}}}}});
  };
  if (!d.dial_key.empty()) from_secret(kDialKeyVariable, "dial-key");
  if (!d.commands_token.empty()) from_secret(kCommandsTokenVariable, "token");
  return {{"name", "daemon"},
          {"image", d.spec.code.image.empty() ? place.image : d.spec.code.image},
          {"args", managed_daemon_arguments(d, {place.port, "0.0.0.0", std::string(kWorkspace)})},
          {"env", std::move(env)},
          {"ports",
           Json::array({{{"name", "daemon"}, {"containerPort", place.port}, {"protocol", "TCP"}}})},
          // One claim, two folders of it: the kubelet makes each subPath on first use.
          {"volumeMounts",
           Json::array({{{"name", "data"}, {"mountPath", kHome}, {"subPath", "home"}},
                        {{"name", "data"}, {"mountPath", kWorkspace}, {"subPath", "workspace"}}})},
          {"readinessProbe", {{"tcpSocket", {{"port", "daemon"}}}, {"periodSeconds", 5}}},
          {"securityContext",
           {{"allowPrivilegeEscalation", false},
            {"runAsNonRoot", true},
            {"capabilities", {{"drop", Json::array({"ALL"})}}}}}};
}

}  // namespace

std::string kubernetes_name(std::string_view daemon_id) {
  std::string name = "reliant-daemon-";
  for (const char c : daemon_id) {
    name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return name;
}

std::string kubernetes_address(std::string_view daemon_id, const KubernetesPlacement& place) {
  return "http://" + kubernetes_name(daemon_id) + "." + place.namespace_name +
         ".svc:" + std::to_string(place.port);
}

KubernetesObjects kubernetes_objects(const DaemonDeployment& d, const KubernetesPlacement& place,
                                     bool running) {
  const Json metadata = metadata_of(d, place);
  const std::string name = kubernetes_name(d.daemon_id);
  const Json selector = {{std::string(kSelectorLabel), name}};
  KubernetesObjects out;

  Json claim_spec = {{"accessModes", Json::array({"ReadWriteOnce"})},
                     {"resources", {{"requests", {{"storage", place.storage}}}}}};
  if (!place.storage_class.empty()) claim_spec["storageClassName"] = place.storage_class;
  out.volume_claim = {{"apiVersion", "v1"},
                      {"kind", "PersistentVolumeClaim"},
                      {"metadata", metadata},
                      {"spec", std::move(claim_spec)}};

  const Json pod = {
      // No credentials in the pod (spec S0.12): the gateway that dials it vouches for it.
      {"automountServiceAccountToken", false},
      {"enableServiceLinks", false},
      {"terminationGracePeriodSeconds", 10},
      {"securityContext",
       {{"runAsUser", kDaemonUser},
        {"runAsGroup", kDaemonUser},
        {"fsGroup", kDaemonUser},
        {"runAsNonRoot", true}}},
      {"containers", Json::array({container_of(d, place)})},
      {"volumes",
       Json::array({{{"name", "data"}, {"persistentVolumeClaim", {{"claimName", name}}}}})}};
  out.deployment = {
      {"apiVersion", "apps/v1"},
      {"kind", "Deployment"},
      {"metadata", metadata},
      {"spec",
       {{"replicas", running ? 1 : 0},
        {"selector", {{"matchLabels", selector}}},
        // Never two pods of one daemon: they would share its claim and its identity.
        {"strategy", {{"type", "Recreate"}}},
        {"template", {{"metadata", {{"labels", metadata["labels"]}}}, {"spec", pod}}}}}};

  out.service = {{"apiVersion", "v1"},
                 {"kind", "Service"},
                 {"metadata", metadata},
                 {"spec",
                  {{"type", "ClusterIP"},
                   {"selector", selector},
                   {"ports", Json::array({{{"name", "daemon"},
                                           {"port", place.port},
                                           {"targetPort", "daemon"},
                                           {"protocol", "TCP"}}})}}}};
  Json secrets = Json::object();
  if (!d.dial_key.empty()) secrets["dial-key"] = d.dial_key;
  if (!d.commands_token.empty()) secrets["token"] = d.commands_token;
  if (!secrets.empty()) {
    out.secret = {{"apiVersion", "v1"},
                  {"kind", "Secret"},
                  {"metadata", metadata},
                  {"type", "Opaque"},
                  {"stringData", std::move(secrets)}};
  }
  return out;
}

}  // namespace reliant
