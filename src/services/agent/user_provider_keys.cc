// Users' provider keys for model calls, opened and kept briefly (user_provider_keys.h).
#include "services/agent/user_provider_keys.h"

#include "services/storage/provider_keys.h"

namespace reliant::agent {

Task<Result<std::string>> UserProviderKeys::key_for(std::string user_id, std::string provider,
                                                    Instant now) {
  const std::string name = user_id + '\n' + provider;
  if (auto kept = kept_.take(name); kept && now - kept->read_at < kKeptFor) {
    std::string key = kept->key;
    kept_.put(name, std::move(*kept));
    co_return key;
  }
  Task<Result<std::optional<std::string>>> reading =
      store_.transact_for([key = secrets_key_, user_id, provider](SqlTransaction& tx) {
        return open_provider_key(tx, *key, user_id, provider);
      });
  Result<std::optional<std::string>> opened = co_await reading;
  if (!opened) co_return fail(opened.error());
  std::string key = opened->value_or("");
  kept_.put(name, Kept{key, now});
  co_return key;
}

Task<Result<llm::Response>> UserKeyLlm::complete(llm::Request request, llm::TextSink on_text) {
  std::string kind = provider_kind_;
  if (catalog_ != nullptr) {
    const ModelSpec* model =
        catalog_->model(request.model.empty() ? catalog_->default_model : request.model);
    const ProviderSpec* provider = model == nullptr ? nullptr : catalog_->provider(model->provider);
    kind = provider == nullptr ? "" : std::string(to_string(provider->kind));
  }
  if (!request.user_id.empty() && request.api_key.empty() && is_key_provider(kind)) {
    Task<Result<std::string>> reading = keys_->key_for(request.user_id, kind, executor_.now());
    Result<std::string> key = co_await reading;
    if (!key) co_return fail(key.error());
    request.api_key = std::move(*key);
  }
  Task<Result<llm::Response>> calling = inner_->complete(std::move(request), std::move(on_text));
  co_return co_await calling;
}

}  // namespace reliant::agent
