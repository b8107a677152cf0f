// The model a process talks to, from flags and env: the scripted model (offline, default) or
// an Anthropic / OpenAI-compatible provider (spec S3.2).
#pragma once

#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "adapters/asio/asio_executor.h"
#include "runtime/llm.h"

namespace reliant {

struct LlmOptions {
  std::string provider = "scripted";  // scripted | anthropic | openai
  std::string api_key;       // default: LLM_API_KEY, else ANTHROPIC_API_KEY / OPENAI_API_KEY
  std::string api_key_file;  // the key in a file (its first line), instead of api_key
  std::string base_url;      // default: ANTHROPIC_BASE_URL / OPENAI_BASE_URL, else the provider's
  std::string model;         // default: the provider's
};

void add_llm_options(CLI::App& command, LlmOptions& options);

// Precise errors for an unknown provider, a missing or unreadable key or a bad URL.
Result<std::unique_ptr<llm::Llm>> open_llm(AsioExecutor& executor, const LlmOptions& options);

// The model name runs ask for when a message names none.
std::string default_model(const LlmOptions& options);

}  // namespace reliant
