// The API keys users keep in their settings for the model providers (services/storage/
// provider_keys.h), as a worker's model calls read them: opened with the server's secrets key
// and kept a short while (kKeptFor), so a turn costs no extra read while a deleted or replaced
// key stops being used within that time. Used on the worker's executor alone, as the other caches
// of its activities are (ConversationCache). UserKeyLlm puts them into the calls: the Llm of a
// process that has a secrets key, in front of its providers.
#pragma once

#include <memory>
#include <string>

#include "base/lru_map.h"
#include "base/sealed_box.h"
#include "base/time.h"
#include "core/agent/model_catalog.h"
#include "runtime/executor.h"
#include "runtime/llm.h"
#include "runtime/store.h"
#include "runtime/task.h"

namespace reliant::agent {

class UserProviderKeys {
 public:
  static constexpr Duration kKeptFor = seconds(10);
  static constexpr std::size_t kUsersKept = 1024;

  UserProviderKeys(Store& store, std::shared_ptr<const SealKey> secrets_key)
      : store_(store), secrets_key_(std::move(secrets_key)) {}

  // The user's key for `provider` (anthropic, openai), "" when they keep none. Fails when the
  // store does, or with failed_precondition when their key does not open under this server's
  // secrets key (the message says so; it never holds the key).
  Task<Result<std::string>> key_for(std::string user_id, std::string provider, Instant now);

 private:
  struct Kept {
    std::string key;
    Instant read_at;
  };

  Store& store_;
  std::shared_ptr<const SealKey> secrets_key_;
  LruMap<Kept> kept_{kUsersKept};
};

// Before a call for a user (Request::user_id), the user's key for the model's provider: the
// catalogue's provider of that model, or without a catalogue the process's one provider
// (`provider_kind`). Calls for nobody, to the scripted model, or by a user who keeps no key use
// the provider's own. A key that does not open fails the call, naming why; it is never tried.
class UserKeyLlm final : public llm::Llm {
 public:
  UserKeyLlm(std::unique_ptr<llm::Llm> inner, Executor& executor,
             std::shared_ptr<UserProviderKeys> keys, std::shared_ptr<const ModelCatalog> catalog,
             std::string provider_kind)
      : inner_(std::move(inner)),
        executor_(executor),
        keys_(std::move(keys)),
        catalog_(std::move(catalog)),
        provider_kind_(std::move(provider_kind)) {}

  Task<Result<llm::Response>> complete(llm::Request request, llm::TextSink on_text) override;

 private:
  std::unique_ptr<llm::Llm> inner_;
  Executor& executor_;
  std::shared_ptr<UserProviderKeys> keys_;
  std::shared_ptr<const ModelCatalog> catalog_;
  std::string provider_kind_;
};

}  // namespace reliant::agent
