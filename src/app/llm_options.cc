// LLM selection for the worker and the monolith.
#include "app/llm_options.h"

#include <fstream>

#include "adapters/llm/llm_config.h"
#include "core/agent/scripted_model.h"

namespace reliant {
namespace {

// The first line of `path`, without surrounding white space.
Result<std::string> read_key_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return fail(ErrorCode::invalid_argument, "--llm-api-key-file " + path + ": cannot read it");
  }
  std::string line;
  std::getline(in, line);  // an empty file leaves `line` empty: refused below
  if (in.bad()) {
    return fail(ErrorCode::invalid_argument, "--llm-api-key-file " + path + ": cannot read it");
  }
  const auto first = line.find_first_not_of(" \t\r");
  const auto last = line.find_last_not_of(" \t\r");
  if (first == std::string::npos) {
    return fail(ErrorCode::invalid_argument,
                "--llm-api-key-file " + path + ": its first line is empty");
  }
  return line.substr(first, last - first + 1);
}

}  // namespace

void add_llm_options(CLI::App& command, LlmOptions& options) {
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

std::string default_model(const LlmOptions& options) {
  if (!options.model.empty()) return options.model;
  return options.provider == "scripted" ? "scripted" : "";
}

}  // namespace reliant
