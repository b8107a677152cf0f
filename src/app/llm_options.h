// The model a process talks to, from flags and env: the scripted model (offline, default) or
// an Anthropic / OpenAI-compatible provider (spec S3.2).
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "adapters/asio/asio_executor.h"
#include "base/sealed_box.h"
#include "core/agent/model_catalog.h"
#include "runtime/llm.h"
#include "runtime/store.h"

namespace reliant {

struct LlmOptions {
  std::string provider = "scripted";  // scripted | anthropic | openai
  std::string api_key;       // default: LLM_API_KEY, else ANTHROPIC_API_KEY / OPENAI_API_KEY
  std::string api_key_file;  // the key in a file (its first line), instead of api_key
  std::string base_url;      // default: ANTHROPIC_BASE_URL / OPENAI_BASE_URL, else the provider's
  std::string model;         // default: the provider's
  std::string models_file;   // a model catalogue instead of provider and model
  // The server's secrets key (app/secrets_key.h): set, users' own provider keys are used.
  std::string secrets_key_file;
};

// What a process calls models through: one Llm (behind it, one per provider of the catalogue),
// the catalogue (null without --models: the one model of the flags) and the default model.
struct OpenedModels {
  std::unique_ptr<llm::Llm> llm;
  // The secrets key users' provider keys are sealed under (null: none configured); `llm` then
  // calls with a user's own key when they keep one (services/agent/user_provider_keys.h).
  std::shared_ptr<const SealKey> secrets_key;
  std::shared_ptr<const agent::ModelCatalog> catalog;
  std::string default_model;
};

void add_llm_options(CLI::App& command, LlmOptions& options);

// Precise errors for an unknown provider, a missing or unreadable key or a bad URL.
Result<std::unique_ptr<llm::Llm>> open_llm(AsioExecutor& executor, const LlmOptions& options);

// The catalogue of --models (every provider opened, keys read now), or the one model of
// --llm-provider and --model. Mistakes in the file at file:line:column. With `store`, users'
// own provider keys are read from it, sealed under --secrets-key-file — or, when
// `data_dir` is given and the flag is not (the monolith), under the data dir's secrets.key.
Result<OpenedModels> open_models(AsioExecutor& executor, const LlmOptions& options,
                                 Store* store = nullptr, const std::string& data_dir = {});

// The catalogue of a --models file alone, its providers not opened (the api lists its models).
Result<std::shared_ptr<const agent::ModelCatalog>> read_model_catalog(const std::string& path);

// The model name runs ask for when a message names none.
std::string default_model(const LlmOptions& options);

}  // namespace reliant
