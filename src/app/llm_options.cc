// LLM selection for the worker and the monolith.
#include "app/llm_options.h"

#include "adapters/llm/llm_config.h"
#include "core/agent/scripted_model.h"

namespace reliant {

void add_llm_options(CLI::App& command, LlmOptions& options) {
  command.add_option("--llm-provider", options.provider, "scripted (offline), anthropic or openai")
      ->envname("LLM_PROVIDER")
      ->check(CLI::IsMember({"scripted", "anthropic", "openai"}))
      ->capture_default_str();
  command.add_option("--llm-api-key", options.api_key,
                     "API key (default: ANTHROPIC_API_KEY or OPENAI_API_KEY)");
  command.add_option("--llm-base-url", options.base_url,
                     "Provider base URL (default: ANTHROPIC_BASE_URL or OPENAI_BASE_URL, else the "
                     "provider's); any OpenAI-compatible server works");
  command.add_option("--model", options.model, "Model used when a message names none")
      ->envname("LLM_MODEL");
}

Result<std::unique_ptr<llm::Llm>> open_llm(AsioExecutor& executor, const LlmOptions& options) {
  if (options.provider == "scripted")
    return std::unique_ptr<llm::Llm>(std::make_unique<agent::ScriptedLlm>());
  llm::LlmSettings settings;
  settings.provider = options.provider;
  settings.api_key = options.api_key;
  settings.base_url = options.base_url;
  settings.model = options.model;
  auto completed = llm::settings_from_env(std::move(settings));
  if (!completed) return fail(completed.error());
  return llm::make_llm(executor, std::move(*completed));
}

std::string default_model(const LlmOptions& options) {
  if (!options.model.empty()) return options.model;
  return options.provider == "scripted" ? "scripted" : "";
}

}  // namespace reliant
