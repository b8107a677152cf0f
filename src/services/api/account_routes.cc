// Tokens and settings: each request one store transaction, scoped to the signed-in user.
#include "services/api/account_routes.h"

#include <array>
#include <memory>

#include "core/personal_access_token.h"
#include "core/tool_subjects.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"
#include "services/storage/accounts.h"
#include "services/storage/provider_keys.h"
#include "services/storage/settings.h"

namespace reliant::api {
namespace {

constexpr std::int64_t kLifetimeDaysMax = 3650;

Json token_json(const PersonalAccessToken& t) {
  const auto optional = [](const std::optional<std::int64_t>& v) { return v ? Json(*v) : Json(); };
  return {{"id", t.id},
          {"name", t.name},
          {"display_prefix", t.display_prefix},
          {"created_at_ms", t.created_at_ms},
          {"last_used_at_ms", optional(t.last_used_at_ms)},
          {"revoked_at_ms", optional(t.revoked_at_ms)},
          {"expires_at_ms", optional(t.expires_at_ms)}};
}

}  // namespace

AccountRoutes::AccountRoutes(Env& env, SecretSource* secrets,
                             std::shared_ptr<const SealKey> secrets_key)
    : env_(env),
      secrets_(secrets),
      secrets_key_(std::move(secrets_key)),
      ids_(env.executor, env.random.split(0x746f6b656eULL)) {}

Task<std::optional<HttpResponse>> AccountRoutes::handle(const HttpRequest& request,
                                                        const std::vector<std::string>& parts,
                                                        const std::string& user_id) {
  const std::string& method = request.method;
  if (parts[2] == "tokens") {
    if (parts.size() == 3 && method == "POST") {
      Task<HttpResponse> creating = create_token(request, user_id);
      co_return co_await creating;
    }
    if (parts.size() == 3 && method == "GET") {
      Task<HttpResponse> listing = list_tokens(user_id);
      co_return co_await listing;
    }
    if (parts.size() == 4 && method == "DELETE") {
      Task<HttpResponse> revoking = revoke_token(user_id, parts[3]);
      co_return co_await revoking;
    }
  }
  if (parts[2] == "settings" && parts.size() >= 4 && parts[3] == "provider-keys") {
    Task<std::optional<HttpResponse>> keys = provider_keys(request, parts, user_id);
    co_return co_await keys;
  }
  if (parts[2] == "settings" && parts.size() == 3) {
    if (method == "GET") {
      Task<HttpResponse> getting = get_settings(user_id);
      co_return co_await getting;
    }
    if (method == "PUT") {
      Task<HttpResponse> putting = put_settings(request, user_id);
      co_return co_await putting;
    }
  }
  co_return std::nullopt;
}

Task<HttpResponse> AccountRoutes::create_token(const HttpRequest& request, std::string user_id) {
  if (secrets_ == nullptr) {
    co_return error_response(
        {ErrorCode::failed_precondition, "this server does not issue tokens over the API"});
  }
  auto body = parse_json_body(request);
  if (!body) co_return error_response(body.error());
  const Json& name = (*body)["name"];
  if (!name.is_string() || name.get<std::string>().empty() ||
      name.get<std::string>().size() > kPatNameBytesMax) {
    co_return error_response(
        {ErrorCode::invalid_argument, "\"name\" must be a string of 1 to 100 characters"});
  }
  const std::int64_t now_ms = to_ms(env_.executor.now());
  std::optional<std::int64_t> expires_at_ms;
  if (body->contains("expires_in_days")) {
    const Json& days = (*body)["expires_in_days"];
    if (!days.is_number_integer() || days.get<std::int64_t>() < 1 ||
        days.get<std::int64_t>() > kLifetimeDaysMax) {
      co_return error_response(
          {ErrorCode::invalid_argument, "\"expires_in_days\" must be an integer from 1 to 3650"});
    }
    expires_at_ms = now_ms + days.get<std::int64_t>() * 24 * 3600 * 1000;
  }
  std::array<std::uint8_t, kPatRandomBytes> secret{};
  secrets_->fill(secret.data(), secret.size());
  JsonTransactionBody insert =
      [issued = make_token(secret, ids_.next(), user_id, name.get<std::string>(), now_ms,
                           expires_at_ms)](SqlTransaction& tx) -> Result<Json> {
    auto inserted = insert_new_token(tx, issued);
    if (!inserted) return fail(inserted.error());
    Json out = token_json(issued.meta);
    out["token"] = issued.token;  // the only time it is shown
    out["user_id"] = issued.meta.user_id;
    return out;
  };
  Task<HttpResponse> inserting = transact_and_respond(env_, std::move(insert), 201);
  co_return co_await inserting;
}

Task<HttpResponse> AccountRoutes::list_tokens(std::string user_id) {
  JsonTransactionBody read = [user_id](SqlTransaction& tx) -> Result<Json> {
    auto tokens = reliant::list_tokens(tx, user_id);
    if (!tokens) return fail(tokens.error());
    Json list = Json::array();
    for (const auto& token : *tokens) list.push_back(token_json(token));
    return Json{{"tokens", list}};
  };
  Task<HttpResponse> reading = transact_and_respond(env_, std::move(read), 200);
  co_return co_await reading;
}

Task<HttpResponse> AccountRoutes::revoke_token(std::string user_id, std::string token_id) {
  JsonTransactionBody revoke =
      [user_id, token_id, now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<Json> {
    auto revoked = reliant::revoke_token(tx, token_id, now_ms, user_id);
    if (!revoked) return fail(revoked.error());
    return Json{{"id", token_id}, {"status", "revoked"}};
  };
  Task<HttpResponse> revoking = transact_and_respond(env_, std::move(revoke), 200);
  HttpResponse response = co_await revoking;
  // Connections the token opened end now (a daemon's stream, update streams), not at their
  // holders' next re-check. A lost announcement only delays that.
  if (response.status == 200 && env_.bus != nullptr) {
    (void)env_.bus->publish(subjects::credential_revoked(user_id), token_id);
  }
  co_return response;
}

Task<HttpResponse> AccountRoutes::get_settings(std::string user_id) {
  JsonTransactionBody read = [user_id](SqlTransaction& tx) -> Result<Json> {
    auto settings = load_settings(tx, user_id);
    if (!settings) return fail(settings.error());
    return Json{{"settings", *settings}};
  };
  Task<HttpResponse> reading = transact_and_respond(env_, std::move(read), 200);
  co_return co_await reading;
}

Task<HttpResponse> AccountRoutes::put_settings(const HttpRequest& request, std::string user_id) {
  auto body = parse_json_body(request);
  if (!body) co_return error_response(body.error());
  if (!(*body)["settings"].is_object()) {
    co_return error_response({ErrorCode::invalid_argument, "\"settings\" must be a JSON object"});
  }
  JsonTransactionBody save = [settings = (*body)["settings"], user_id,
                              now_ms =
                                  to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<Json> {
    if (auto saved = save_settings(tx, user_id, settings, now_ms); !saved)
      return fail(saved.error());
    return Json{{"settings", settings}};
  };
  Task<HttpResponse> saving = transact_and_respond(env_, std::move(save), 200);
  co_return co_await saving;
}

}  // namespace reliant::api

namespace reliant::api {

// /api/v1/settings/provider-keys[/{provider}]: list, store, delete.
Task<std::optional<HttpResponse>> AccountRoutes::provider_keys(
    const HttpRequest& request, const std::vector<std::string>& parts, const std::string& user_id) {
  const std::string& method = request.method;
  if (parts.size() == 4 && method == "GET") {
    JsonTransactionBody read = [user_id](SqlTransaction& tx) -> Result<Json> {
      auto keys = list_provider_keys(tx, user_id);
      if (!keys) return fail(keys.error());
      Json list = Json::array();
      for (const auto& key : *keys) {
        list.push_back({{"provider", key.provider},
                        {"created_at_ms", key.created_at_ms},
                        {"updated_at_ms", key.updated_at_ms}});
      }
      return Json{{"provider_keys", std::move(list)}};
    };
    Task<HttpResponse> reading = transact_and_respond(env_, std::move(read), 200);
    co_return co_await reading;
  }
  if (parts.size() != 5) co_return std::nullopt;
  const std::string provider = parts[4];
  if (!is_key_provider(provider)) {
    co_return error_response(
        {ErrorCode::invalid_argument, "no provider \"" + provider +
                                          "\" (keys are kept for anthropic and "
                                          "openai)"});
  }
  if (method == "PUT") {
    Task<HttpResponse> putting = put_provider_key(request, user_id, provider);
    co_return co_await putting;
  }
  if (method == "DELETE") {
    JsonTransactionBody remove = [user_id, provider](SqlTransaction& tx) -> Result<Json> {
      auto deleted = delete_provider_key(tx, user_id, provider);
      if (!deleted) return fail(deleted.error());
      if (!*deleted) return fail(ErrorCode::not_found, "you keep no " + provider + " key");
      return Json{{"provider", provider}, {"status", "deleted"}};
    };
    Task<HttpResponse> deleting = transact_and_respond(env_, std::move(remove), 200);
    co_return co_await deleting;
  }
  co_return std::nullopt;
}

Task<HttpResponse> AccountRoutes::put_provider_key(const HttpRequest& request, std::string user_id,
                                                   std::string provider) {
  if (secrets_key_ == nullptr || secrets_ == nullptr) {
    co_return error_response({ErrorCode::failed_precondition,
                              "this server keeps no provider keys: it was started without "
                              "--secrets-key-file"});
  }
  auto body = parse_json_body(request);
  if (!body) co_return error_response(body.error());
  const Json& key = (*body)["api_key"];
  // The key itself is never repeated in an answer, right or wrong.
  if (!key.is_string() || !plausible_provider_key(key.get<std::string>())) {
    co_return error_response({ErrorCode::invalid_argument,
                              "\"api_key\" must be the provider's key: 8 to 512 printable "
                              "characters without spaces"});
  }
  JsonTransactionBody store = [this, user_id, provider, api_key = key.get<std::string>(),
                               now_ms =
                                   to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<Json> {
    if (auto put = reliant::put_provider_key(tx, *secrets_key_, *secrets_, user_id, provider,
                                             api_key, now_ms);
        !put) {
      return fail(put.error());
    }
    return Json{{"provider", provider}, {"status", "stored"}};
  };
  Task<HttpResponse> storing = transact_and_respond(env_, std::move(store), 200);
  co_return co_await storing;
}

}  // namespace reliant::api
