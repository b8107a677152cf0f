// LLM selection for the worker and the monolith.
#include "app/llm_options.h"
#include "app/secrets_key.h"
#include "services/agent/user_provider_keys.h"

#include <fstream>
#include <map>

#include "adapters/llm/llm_config.h"
#include "core/agent/scripted_model.h"
#include "services/agent/catalog_llm.h"

namespace reliant {
namespace {

// The first line of `path`, without surrounding white space; `what` names it in errors.
Result<std::string> read_key_file(const std::string& path,
                                  const std::string& what = "--llm-api-key-file") {
  std::ifstream in(path);
  if (!in) return fail(ErrorCode::invalid_argument, what + " " + path + ": cannot read it");
  std::string line;
  std::getline(in, line);  // an empty file leaves `line` empty: refused below
  if (in.bad()) return fail(ErrorCode::invalid_argument, what + " " + path + ": cannot read it");
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos) {
    return fail(ErrorCode::invalid_argument, what + " " + path + ": its first line is empty");
  }
  return line.substr(first, last - first + 1);
}

}  // namespace

void add_llm_options(CLI::App& command, LlmOptions& options) {
  add_secrets_key_option(command, options.secrets_key_file);
  command.add_option("--llm-provider", options.provider, "scripted (offline), anthropic or openai")
      ->envname("LLM_PROVIDER")
      ->check(CLI::IsMember({"scripted", "anthropic", "openai"}))
      ->capture_default_str();
  // On the command line a key is readable by every local user until main() overwrites it:
  // the file and the environment are the ways to pass it (main() warns about the flag).
  command
      .add_option("--llm-api-key", options.api_key,
                  "API key (default: ANTHROPIC_API_KEY or OPENAI_API_KEY); prefer "
                  "--llm-api-key-file or the environment: the command line is readable by "
                  "other local users")
      ->envname("LLM_API_KEY");
  command
      .add_option("--llm-api-key-file", options.api_key_file,
                  "A file holding the API key (its first line)")
      ->envname("LLM_API_KEY_FILE");
  command.add_option("--llm-base-url", options.base_url,
                     "Provider base URL (default: ANTHROPIC_BASE_URL or OPENAI_BASE_URL, else the "
                     "provider's); any OpenAI-compatible server works");
  command.add_option("--model", options.model, "Model used when a message names none")
      ->envname("LLM_MODEL");
  command
      .add_option("--models", options.models_file,
                  "A model catalogue (YAML: providers, models with tags, limits and prices, the "
                  "default): several models in one process, picked per node by name or tags; "
                  "instead of --llm-provider and --model")
      ->envname("RELIANT_MODELS_FILE");
}

Result<std::unique_ptr<llm::Llm>> open_llm(AsioExecutor& executor, const LlmOptions& options) {
  if (options.provider == "scripted")
    return std::unique_ptr<llm::Llm>(std::make_unique<agent::ScriptedLlm>());
  llm::LlmSettings settings;
  settings.provider = options.provider;
  settings.api_key = options.api_key;
  if (!options.api_key_file.empty()) {
    if (!options.api_key.empty()) {
      return fail(ErrorCode::invalid_argument,
                  "give --llm-api-key-file or --llm-api-key (LLM_API_KEY), not both");
    }
    auto key = read_key_file(options.api_key_file);
    if (!key) return fail(key.error());
    settings.api_key = std::move(*key);
  }
  settings.base_url = options.base_url;
  settings.model = options.model;
  auto completed = llm::settings_from_env(std::move(settings));
  if (!completed) return fail(completed.error());
  return llm::make_llm(executor, std::move(*completed));
}

Result<std::shared_ptr<const agent::ModelCatalog>> read_model_catalog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::invalid_argument, "--models " + path + ": cannot read it");
  std::string text(agent::kModelCatalogBytesMax + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  auto catalog = agent::load_model_catalog(text);
  if (!catalog) {
    return fail(ErrorCode::invalid_argument, workflow::format_all(path, catalog.error()));
  }
  return std::make_shared<const agent::ModelCatalog>(std::move(*catalog));
}

namespace {

// The Llm of one of the catalogue's providers: its key from its variable or file, else the
// kind's usual variable (ANTHROPIC_API_KEY, OPENAI_API_KEY).
Result<std::unique_ptr<llm::Llm>> open_provider(AsioExecutor& executor,
                                                const agent::ProviderSpec& provider) {
  if (provider.kind == agent::ProviderKind::scripted)
    return std::unique_ptr<llm::Llm>(std::make_unique<agent::ScriptedLlm>());
  llm::LlmSettings settings;
  settings.provider = std::string(agent::to_string(provider.kind));
  settings.base_url = provider.base_url;
  const std::string what = "--models: provider " + provider.name;
  if (!provider.api_key_env.empty()) {
    auto key = llm::process_env(provider.api_key_env);
    if (!key) {
      return fail(ErrorCode::invalid_argument,
                  what + " reads its key from " + provider.api_key_env + ", which is not set");
    }
    settings.api_key = std::move(*key);
  } else if (!provider.api_key_file.empty()) {
    auto key = read_key_file(provider.api_key_file, what + ": api_key_file");
    if (!key) return fail(key.error());
    settings.api_key = std::move(*key);
  }
  auto completed = llm::settings_from_env(std::move(settings));
  if (!completed) return fail(ErrorCode::invalid_argument, what + ": " + completed.error().message);
  return llm::make_llm(executor, std::move(*completed));
}

}  // namespace

namespace {

// The models, users' own keys in front of them when the process has a secrets key.
Result<OpenedModels> with_user_keys(AsioExecutor& executor, const LlmOptions& options,
                                    OpenedModels opened, Store* store,
                                    const std::string& data_dir) {
  if (store == nullptr || (options.secrets_key_file.empty() && data_dir.empty())) return opened;
  auto key = monolith_secrets_key(options.secrets_key_file, data_dir);
  if (!key) return fail(key.error());
  opened.secrets_key = *key;
  opened.llm = std::make_unique<agent::UserKeyLlm>(
      std::move(opened.llm), executor, std::make_shared<agent::UserProviderKeys>(*store, *key),
      opened.catalog, options.models_file.empty() ? options.provider : "");
  return opened;
}

Result<OpenedModels> open_provider_models(AsioExecutor& executor, const LlmOptions& options) {
  OpenedModels opened;
  if (options.models_file.empty()) {
    auto llm = open_llm(executor, options);
    if (!llm) return fail(llm.error());
    opened.llm = std::move(*llm);
    opened.default_model = default_model(options);
    return opened;
  }
  if (options.provider != "scripted" || !options.model.empty()) {
    return fail(ErrorCode::invalid_argument,
                "give --models, or --llm-provider and --model, not both");
  }
  auto catalog = read_model_catalog(options.models_file);
  if (!catalog) return fail(catalog.error());
  std::map<std::string, std::unique_ptr<llm::Llm>, std::less<>> providers;
  for (const auto& provider : (*catalog)->providers) {
    auto llm = open_provider(executor, provider);
    if (!llm) return fail(llm.error());
    providers.emplace(provider.name, std::move(*llm));
  }
  opened.catalog = *catalog;
  opened.default_model = (*catalog)->default_model;
  opened.llm = std::make_unique<agent::CatalogLlm>(*catalog, std::move(providers));
  return opened;
}

}  // namespace

Result<OpenedModels> open_models(AsioExecutor& executor, const LlmOptions& options, Store* store,
                                 const std::string& data_dir) {
  auto opened = open_provider_models(executor, options);
  if (!opened) return fail(opened.error());
  return with_user_keys(executor, options, std::move(*opened), store, data_dir);
}

std::string default_model(const LlmOptions& options) {
  if (!options.model.empty()) return options.model;
  return options.provider == "scripted" ? "scripted" : "";
}

}  // namespace reliant
