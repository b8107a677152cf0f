// make_llm and settings_from_env: validation with errors that name the flag or variable to set.
#include "adapters/llm/llm_config.h"

#include <cstdlib>
#include <utility>

#include "adapters/llm/anthropic_llm.h"
#include "adapters/llm/llm_http.h"
#include "adapters/llm/openai_llm.h"

namespace reliant::llm {

namespace {

struct ProviderNames {
  const char* key_variable;
  const char* url_variable;
};

std::optional<ProviderNames> names_for(const std::string& provider) {
  if (provider == "anthropic") return ProviderNames{"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"};
  if (provider == "openai") return ProviderNames{"OPENAI_API_KEY", "OPENAI_BASE_URL"};
  return std::nullopt;
}

tl::unexpected<Error> unknown_provider(const std::string& provider) {
  return fail(ErrorCode::invalid_argument,
              "unknown LLM provider '" + provider + "' (expected anthropic or openai)");
}

tl::unexpected<Error> missing_key(const std::string& provider, const ProviderNames& names) {
  return fail(ErrorCode::invalid_argument,
              "provider " + provider + " needs " + names.key_variable + " or --llm-api-key");
}

}  // namespace

std::optional<std::string> process_env(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

Result<LlmSettings> settings_from_env(LlmSettings settings, const EnvLookup& env) {
  const auto names = names_for(settings.provider);
  if (!names) return unknown_provider(settings.provider);
  if (settings.api_key.empty()) {
    if (auto key = env(names->key_variable)) settings.api_key = std::move(*key);
  }
  if (settings.base_url.empty()) {
    if (auto url = env(names->url_variable)) settings.base_url = std::move(*url);
  }
  if (settings.api_key.empty()) return missing_key(settings.provider, *names);
  return settings;
}

Result<std::unique_ptr<Llm>> make_llm(AsioExecutor& executor, LlmSettings settings) {
  const auto names = names_for(settings.provider);
  if (!names) return unknown_provider(settings.provider);
  if (settings.api_key.empty()) return missing_key(settings.provider, *names);
  if (settings.attempts_max < 1) {
    return fail(ErrorCode::invalid_argument, "max_attempts must be at least 1 (got " +
                                                 std::to_string(settings.attempts_max) + ")");
  }
  if (settings.total_timeout <= Duration::zero() || settings.idle_timeout <= Duration::zero()) {
    return fail(ErrorCode::invalid_argument, "LLM timeouts must be positive");
  }
  if (!settings.base_url.empty()) {
    if (auto url = parse_http_url(settings.base_url); !url) {
      return fail(ErrorCode::invalid_argument,
                  "bad base URL for provider " + settings.provider + ": " + url.error().message);
    }
  }
  RetryPolicy retry;
  retry.attempts_max = settings.attempts_max;
  const HttpTimeouts timeouts{settings.total_timeout, settings.idle_timeout};
  if (settings.provider == "anthropic") {
    AnthropicConfig config;
    config.api_key = std::move(settings.api_key);
    if (!settings.base_url.empty()) config.base_url = std::move(settings.base_url);
    if (!settings.model.empty()) config.model = std::move(settings.model);
    config.retry = retry;
    config.timeouts = timeouts;
    config.ca_file = std::move(settings.ca_file);
    return std::unique_ptr<Llm>(std::make_unique<AnthropicLlm>(executor, std::move(config)));
  }
  OpenAiConfig config;
  config.api_key = std::move(settings.api_key);
  if (!settings.base_url.empty()) config.base_url = std::move(settings.base_url);
  if (!settings.model.empty()) config.model = std::move(settings.model);
  config.retry = retry;
  config.timeouts = timeouts;
  config.ca_file = std::move(settings.ca_file);
  return std::unique_ptr<Llm>(std::make_unique<OpenAiLlm>(executor, std::move(config)));
}

}  // namespace reliant::llm
