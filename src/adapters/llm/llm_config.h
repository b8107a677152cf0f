// make_llm: builds the Anthropic or OpenAI adapter from provider-neutral settings, which can
// be completed from the providers' usual environment variables.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "adapters/asio/asio_executor.h"
#include "base/result.h"
#include "base/time.h"
#include "runtime/llm.h"

namespace reliant::llm {

struct LlmSettings {
  std::string provider;  // "anthropic" or "openai"
  std::string api_key;
  std::string base_url;  // empty: the provider's default
  std::string model;     // empty: the provider's default
  int attempts_max = 4;
  Duration total_timeout = minutes(10);
  Duration idle_timeout = seconds(120);
  std::string ca_file;  // empty: the system trust store
};

// Looks an environment variable up; nullopt when unset or empty.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment (std::getenv).
std::optional<std::string> process_env(std::string_view name);

// Fills what `settings` leaves empty from the environment: the API key from ANTHROPIC_API_KEY
// or OPENAI_API_KEY, the base URL from ANTHROPIC_BASE_URL or OPENAI_BASE_URL (values already
// set, e.g. from flags, win). Fails with `invalid_argument` for an unknown provider or a
// missing key ("provider openai needs OPENAI_API_KEY or --llm-api-key").
Result<LlmSettings> settings_from_env(LlmSettings settings, const EnvLookup& env = process_env);

// Fails with `invalid_argument` for an unknown provider, a missing key, a bad base URL or
// max_attempts < 1. `executor` must outlive the adapter.
Result<std::unique_ptr<Llm>> make_llm(AsioExecutor& executor, LlmSettings settings);

}  // namespace reliant::llm
