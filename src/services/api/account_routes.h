// AccountRoutes: the signed-in user's own account over REST — personal access tokens (create:
// shown once; list; revoke), settings (one JSON object) and provider keys (their own API keys
// for anthropic and openai: PUT /api/v1/settings/provider-keys/{provider} {api_key}, GET lists
// which providers have one, DELETE removes one; a key is never returned, only sealed and
// stored). `reliant daemon register` and
// `daemon start` create a daemon's token here with the token of `reliant auth login`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/sealed_box.h"
#include "runtime/env.h"
#include "runtime/http.h"
#include "runtime/ids.h"
#include "runtime/secret_source.h"

namespace reliant::api {

class AccountRoutes {
 public:
  // `secrets` null: tokens cannot be created here (listing and revoking still work).
  // `secrets_key` null: provider keys cannot be stored (the server has no key to seal them).
  AccountRoutes(Env& env, SecretSource* secrets, std::shared_ptr<const SealKey> secrets_key = {});

  // The response for /api/v1/tokens… and /api/v1/settings; nullopt for other paths.
  Task<std::optional<HttpResponse>> handle(const HttpRequest& request,
                                           const std::vector<std::string>& parts,
                                           const std::string& user_id);

 private:
  Task<HttpResponse> create_token(const HttpRequest& request, std::string user_id);
  Task<HttpResponse> list_tokens(std::string user_id);
  Task<HttpResponse> revoke_token(std::string user_id, std::string token_id);
  Task<HttpResponse> get_settings(std::string user_id);
  Task<HttpResponse> put_settings(const HttpRequest& request, std::string user_id);
  Task<std::optional<HttpResponse>> provider_keys(const HttpRequest& request,
                                                  const std::vector<std::string>& parts,
                                                  const std::string& user_id);
  Task<HttpResponse> put_provider_key(const HttpRequest& request, std::string user_id,
                                      std::string provider);

  Env& env_;
  SecretSource* secrets_;
  std::shared_ptr<const SealKey> secrets_key_;
  IdGenerator ids_;
};

}  // namespace reliant::api
