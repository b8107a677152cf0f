// KubernetesProvisioner: the API server's calls for each of the provisioner's verbs.
#include "services/control_plane/kubernetes_provisioner.h"

#include <cctype>
#include <memory>

namespace reliant::control_plane {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kAnswerBytesMax = 1 << 20;  // a Deployment or a Status is a few KiB
constexpr std::size_t kDaemonIdBytesMax = 40;

// Ids are ULIDs: letters and digits only, so that one never reaches a path as anything else.
bool safe_id(std::string_view id) {
  if (id.empty() || id.size() > kDaemonIdBytesMax) return false;
  for (const char c : id) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0) return false;
  }
  return true;
}

// The API server's own words for a refusal (its Status object), else the status code.
Error refusal(int status, const std::string& body, std::string_view what) {
  const Json parsed = Json::parse(body, nullptr, false);
  std::string message =
      parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()
          ? parsed["message"].get<std::string>()
          : "HTTP " + std::to_string(status);
  const ErrorCode code = status == 401 || status == 403   ? ErrorCode::permission_denied
                         : status == 422 || status == 400 ? ErrorCode::invalid_argument
                                                          : ErrorCode::unavailable;
  return Error{code, "the Kubernetes API server refused to " + std::string(what) + " (HTTP " +
                         std::to_string(status) + "): " + message};
}

}  // namespace

KubernetesProvisioner::KubernetesProvisioner(HttpClient& http, KubernetesApiConfig api,
                                             KubernetesPlacement place)
    : http_(http), api_(std::move(api)), place_(std::move(place)) {}

Result<void> KubernetesProvisioner::preflight(const ManagedDaemonSpec& spec) const {
  if (!spec.code.binary.empty()) {
    return fail(ErrorCode::failed_precondition,
                "code.binary cannot run on Kubernetes: a pod runs an image; give code.image");
  }
  if (spec.code.image.empty() && place_.image.empty()) {
    return fail(ErrorCode::failed_precondition,
                "no image to run: give code.image (this control plane has no default daemon "
                "image, --kubernetes-image)");
  }
  for (const std::string& link : spec.links) {
    if (link_is_path(link)) continue;
    return fail(ErrorCode::failed_precondition,
                "link " + link +
                    ": a project's or worktree's folder is on the control plane's machine, out of "
                    "a pod's reach; link a path inside the pod instead");
  }
  return {};
}

std::string KubernetesProvisioner::path_of(std::string_view kind,
                                           std::string_view daemon_id) const {
  const std::string name = kubernetes_name(daemon_id);
  const std::string ns = "/namespaces/" + place_.namespace_name + "/";
  if (kind == "Deployment") return "/apis/apps/v1" + ns + "deployments/" + name;
  if (kind == "Service") return "/api/v1" + ns + "services/" + name;
  if (kind == "Secret") return "/api/v1" + ns + "secrets/" + name;
  return "/api/v1" + ns + "persistentvolumeclaims/" + name;
}

Task<Result<HttpClientAnswer>> KubernetesProvisioner::call(std::string method, std::string path,
                                                           std::string content_type,
                                                           std::string body) {
  HttpClientRequest request;
  request.method = std::move(method);
  request.url = api_.server_url + path;
  request.headers.emplace_back("Accept", "application/json");
  if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
  if (api_.bearer_token) {
    auto token = api_.bearer_token();
    if (!token) co_return fail(token.error());
    if (!token->empty()) request.headers.emplace_back("Authorization", "Bearer " + *token);
  }
  request.body = std::move(body);
  request.total_timeout = api_.call_timeout;
  request.idle_timeout = api_.call_timeout;
  Task<Result<HttpClientAnswer>> sending =
      send_and_read(http_, std::move(request), kAnswerBytesMax);
  Result<HttpClientAnswer> answer = co_await sending;
  if (!answer && answer.error().code == ErrorCode::resource_exhausted)
    co_return fail(ErrorCode::unavailable, "the Kubernetes API server's answer is too big");
  if (!answer)
    co_return fail(answer.error().code, "the Kubernetes API server at " + api_.server_url + ": " +
                                            answer.error().message);
  co_return std::move(*answer);
}

Task<Result<void>> KubernetesProvisioner::apply(std::string path, const Json& object) {
  // Server-side apply: the fields this control plane owns are set as given, whoever changed them.
  Task<Result<HttpClientAnswer>> applying =
      call("PATCH", path + "?fieldManager=" + api_.field_manager + "&force=true",
           "application/apply-patch+yaml", object.dump());  // JSON is YAML
  Result<HttpClientAnswer> answer = co_await applying;
  if (!answer) co_return fail(answer.error());
  if (answer->status / 100 != 2) {
    co_return fail(refusal(answer->status, answer->body,
                           "apply " + object["kind"].get<std::string>() + " " +
                               object["metadata"]["name"].get<std::string>()));
  }
  co_return Result<void>{};
}

Task<Result<ProvisionedDaemon>> KubernetesProvisioner::observe(std::string daemon_id) {
  if (!safe_id(daemon_id)) co_return fail(ErrorCode::invalid_argument, "bad daemon id");
  Task<Result<HttpClientAnswer>> reading = call("GET", path_of("Deployment", daemon_id), "", "");
  Result<HttpClientAnswer> answer = co_await reading;
  if (!answer) co_return fail(answer.error());
  ProvisionedDaemon seen;
  if (answer->status == 404) co_return seen;  // absent
  if (answer->status != 200) {
    co_return fail(refusal(answer->status, answer->body, "read a daemon's Deployment"));
  }
  const Json deployment = Json::parse(answer->body, nullptr, false);
  if (!deployment.is_object()) {
    co_return fail(ErrorCode::unavailable, "the Kubernetes API server sent no Deployment");
  }
  const Json spec = deployment.value("spec", Json::object());
  const Json status = deployment.value("status", Json::object());
  const auto wanted = spec.value("replicas", 1);
  const auto pods = status.value("replicas", 0);
  const auto ready = status.value("readyReplicas", 0);
  seen.address = kubernetes_address(daemon_id, place_);
  // Scaled to zero: stopped once its pod is gone; a pod still terminating is stopped again.
  seen.presence = wanted == 0  ? (pods == 0 ? PodState::absent : PodState::running)
                  : ready >= 1 ? PodState::running
                               : PodState::starting;
  for (const Json& condition : status.value("conditions", Json::array())) {
    if (condition.value("status", "") == "False") {
      seen.detail = condition.value("type", "") + ": " + condition.value("message", "");
      break;
    }
  }
  co_return seen;
}

Task<Result<ProvisionedDaemon>> KubernetesProvisioner::start(DaemonDeployment deployment) {
  if (!safe_id(deployment.daemon_id)) co_return fail(ErrorCode::invalid_argument, "bad daemon id");
  if (auto ok = preflight(deployment.spec); !ok) co_return fail(ok.error());
  const KubernetesObjects objects = kubernetes_objects(deployment, place_, true);
  // The claim and the Secret first, so the pod finds its volume and secrets; the Deployment last.
  for (const Json* object :
       {&objects.volume_claim, &objects.secret, &objects.service, &objects.deployment}) {
    if (object->is_null()) continue;  // no Secret without a dial key or commands
    Task<Result<void>> applying =
        apply(path_of((*object)["kind"].get<std::string>(), deployment.daemon_id), *object);
    if (Result<void> applied = co_await applying; !applied) co_return fail(applied.error());
  }
  co_return ProvisionedDaemon{PodState::starting, kubernetes_address(deployment.daemon_id, place_),
                              ""};
}

Task<Result<void>> KubernetesProvisioner::stop(std::string daemon_id) {
  if (!safe_id(daemon_id)) co_return fail(ErrorCode::invalid_argument, "bad daemon id");
  Task<Result<HttpClientAnswer>> scaling =
      call("PATCH", path_of("Deployment", daemon_id), "application/merge-patch+json",
           R"({"spec":{"replicas":0}})");
  Result<HttpClientAnswer> answer = co_await scaling;
  if (!answer) co_return fail(answer.error());
  if (answer->status / 100 != 2 && answer->status != 404) {
    co_return fail(refusal(answer->status, answer->body, "scale a daemon's Deployment to zero"));
  }
  co_return Result<void>{};
}

Task<Result<void>> KubernetesProvisioner::remove(std::string daemon_id) {
  if (!safe_id(daemon_id)) co_return fail(ErrorCode::invalid_argument, "bad daemon id");
  for (const std::string_view kind : {"Deployment", "Service", "Secret", "PersistentVolumeClaim"}) {
    Task<Result<HttpClientAnswer>> deleting =
        call("DELETE", path_of(kind, daemon_id) + "?propagationPolicy=Background", "", "");
    Result<HttpClientAnswer> answer = co_await deleting;
    if (!answer) co_return fail(answer.error());
    if (answer->status / 100 != 2 && answer->status != 404) {
      co_return fail(
          refusal(answer->status, answer->body, "delete a daemon's " + std::string(kind)));
    }
  }
  co_return Result<void>{};
}

}  // namespace reliant::control_plane
