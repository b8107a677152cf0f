// Kubernetes flags, with a service account's files as the defaults inside a cluster.
#include "app/kubernetes_options.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace reliant {
namespace {

constexpr std::string_view kServiceAccount = "/var/run/secrets/kubernetes.io/serviceaccount/";

std::string env_or_empty(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// The service account's file NAME when it exists, else "".
std::string service_account_file(std::string_view name) {
  const std::string path = std::string(kServiceAccount) + std::string(name);
  return std::filesystem::exists(path) ? path : "";
}

Result<std::string> read_trimmed(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::unavailable, "cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string out = text.str();
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

}  // namespace

void add_kubernetes_flags(CLI::App& command, KubernetesFlags& flags) {
  command
      .add_option("--kubernetes-api-url", flags.api_url,
                  "Kubernetes API server for daemons on the kubernetes platform (default in a "
                  "cluster: its own)")
      ->envname("KUBERNETES_API_URL");
  command
      .add_option("--kubernetes-namespace", flags.namespace_name,
                  "Namespace of the daemons' objects (default: the pod's, else reliant)")
      ->envname("KUBERNETES_NAMESPACE");
  command.add_option("--kubernetes-token-file", flags.token_file,
                     "Bearer token file, read for each call (default: the service account's)");
  command.add_option("--kubernetes-ca-file", flags.ca_file,
                     "CA certificates of the API server (default: the service account's, else "
                     "the system's)");
  command
      .add_option("--kubernetes-image", flags.image,
                  "The daemon image for a daemon whose spec names none (code.image)")
      ->envname("RELIANT_DAEMON_IMAGE");
  command.add_option("--kubernetes-storage", flags.storage, "Each daemon's volume size")
      ->capture_default_str();
  command.add_option("--kubernetes-storage-class", flags.storage_class,
                     "Storage class of the daemons' volumes (default: the cluster's)");
}

Result<std::optional<KubernetesPlatform>> kubernetes_platform(AsioExecutor& executor,
                                                              const KubernetesFlags& flags) {
  std::string url = flags.api_url;
  const std::string host = env_or_empty("KUBERNETES_SERVICE_HOST");
  if (url.empty() && !host.empty()) {
    const std::string port = env_or_empty("KUBERNETES_SERVICE_PORT");
    url = "https://" + host + ":" + (port.empty() ? "443" : port);
  }
  if (url.empty()) return std::optional<KubernetesPlatform>();
  while (url.ends_with("/")) url.pop_back();
  KubernetesPlacement place;
  place.image = flags.image;
  place.storage = flags.storage;
  place.storage_class = flags.storage_class;
  place.namespace_name = flags.namespace_name;
  if (place.namespace_name.empty()) {
    const std::string file = service_account_file("namespace");
    auto read = file.empty() ? Result<std::string>("reliant") : read_trimmed(file);
    if (!read) return fail(read.error());
    place.namespace_name = *read;
  }
  const std::string token_file =
      flags.token_file.empty() ? service_account_file("token") : flags.token_file;
  if (!token_file.empty()) {
    if (auto readable = read_trimmed(token_file); !readable) return fail(readable.error());
  }
  control_plane::KubernetesApiConfig api;
  api.server_url = url;
  api.bearer_token = [token_file]() -> Result<std::string> {
    if (token_file.empty()) return std::string();
    return read_trimmed(token_file);
  };
  KubernetesPlatform platform;
  platform.http = std::make_unique<llm::OutboundHttpClient>(
      executor, flags.ca_file.empty() ? service_account_file("ca.crt") : flags.ca_file);
  platform.describe = "kubernetes daemons in namespace " + place.namespace_name + " through " +
                      url + (place.image.empty() ? "" : ", image " + place.image);
  platform.provisioner = std::make_unique<control_plane::KubernetesProvisioner>(
      *platform.http, std::move(api), std::move(place));
  return std::optional<KubernetesPlatform>(std::move(platform));
}

}  // namespace reliant
