// TriggerRoutes: a user's triggers — schedules, webhooks and workflow events that start runs of
// a workflow — as REST paths, and the webhook receiver:
//   GET    /api/v1/triggers[?project_id=P]          {triggers: [view]}
//   POST   /api/v1/triggers                          a trigger of its own spec, or the
//                                                    activation of a workflow's declared one;
//                                                    201 {trigger, webhook?: {path, token}}
//   GET    /api/v1/triggers/{id}                     its view
//   PUT    /api/v1/triggers/{id}                     a full replacement (its kind stays)
//   DELETE /api/v1/triggers/{id}                     gone; its firings stay, unattached
//   POST   /api/v1/triggers/{id}/enable|disable      a schedule resumes from now, or stops
//   POST   /api/v1/triggers/{id}/fire                now, whatever its filter and overlap say
//   POST   /api/v1/triggers/{id}/rotate              a webhook's new token (the old one dies)
//   GET    /api/v1/triggers/{id}/events[?limit=N]    its firings, newest first
//   POST   /hooks/{id}[/{token}]                     a delivery (webhook_receiver.cc)
// A trigger is checked before it is stored: its spec (a cron that parses, a zone that exists, …),
// and a workflow that loads and takes the inputs it gives. Another user's trigger is not_found.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/sealed_box.h"
#include "core/cel/time_zones.h"
#include "runtime/env.h"
#include "runtime/http.h"
#include "runtime/ids.h"
#include "runtime/secret_source.h"
#include "services/storage/triggers.h"
#include "services/triggers/trigger_firing.h"

namespace reliant::api {

struct TriggerRoutesConfig {
  std::string queue = "reliant";  // the engine's task queue
  std::string default_model;
  cel::TimeZoneLoader zones;
  SecretSource* secrets = nullptr;             // webhook tokens; none: no webhooks
  std::shared_ptr<const SealKey> secrets_key;  // seals HMAC secrets; none: no signed webhooks
};

// A webhook delivery's body at most (413 above it).
inline constexpr std::size_t kWebhookBodyBytesMax = 1 << 20;
// A delivery without an idempotency key is the same delivery as one with its body in the same
// window of this many milliseconds (a sender's retries).
inline constexpr std::int64_t kWebhookReplayWindowMs = 5 * 60'000;

class TriggerRoutes {
 public:
  TriggerRoutes(Env& env, TriggerRoutesConfig config);

  // The response for /api/v1/triggers…; nullopt for other paths.
  Task<std::optional<HttpResponse>> handle(const HttpRequest& request,
                                           const std::vector<std::string>& parts,
                                           const std::string& user_id);
  // Whether `request` is a webhook delivery (POST /hooks/…), which carries its own credential.
  static bool is_webhook(const HttpRequest& request);
  // A delivery: 202 {firing_id, status, run_id?, duplicate}; 404 for an unknown trigger, a wrong
  // token or a bad signature alike; 409 when disabled; 413 for a body over the limit; 503 when
  // it could not be recorded.
  Task<HttpResponse> deliver(HttpRequest request);

  Task<Result<nlohmann::json>> list(std::string user_id, std::optional<std::string> project_id);
  Task<Result<nlohmann::json>> get(std::string user_id, std::string id);
  Task<Result<nlohmann::json>> create(std::string user_id, nlohmann::json body);
  Task<Result<nlohmann::json>> replace(std::string user_id, std::string id, nlohmann::json body);
  Task<Result<nlohmann::json>> remove(std::string user_id, std::string id);
  Task<Result<nlohmann::json>> set_enabled(std::string user_id, std::string id, bool enabled);
  Task<Result<nlohmann::json>> fire(std::string user_id, std::string id);
  Task<Result<nlohmann::json>> rotate(std::string user_id, std::string id);
  Task<Result<nlohmann::json>> events(std::string user_id, std::string id, std::int64_t limit);

 private:
  // Ids for one firing, made here on the caller's thread: a transaction body runs on the store's
  // threads, where the id generator must not be used.
  std::vector<std::string> firing_ids();
  // The firing environment of one attempt of a transaction body: its ids from `ids`, from the
  // first again on each attempt.
  triggers::FiringEnv firing_env(const std::vector<std::string>& ids) const;
  std::string new_token();
  void wake();

  Env& env_;
  TriggerRoutesConfig config_;
  IdGenerator ids_;
};

// A trigger as clients see it: never its token's hash or its secret.
nlohmann::json trigger_view(const TriggerRecord& trigger);
nlohmann::json firing_view(const FiringRecord& firing);

}  // namespace reliant::api
