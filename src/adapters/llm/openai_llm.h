// OpenAiLlm: the Llm port on OpenAI Chat Completions (POST {base}/chat/completions, streamed
// as SSE), for OpenAI itself and any server that speaks the same API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/llm/llm_http.h"
#include "runtime/llm.h"
#include "runtime/random.h"

namespace reliant::llm {

struct OpenAiConfig {
  std::string api_key;
  std::string base_url = "https://api.openai.com/v1";  // "/chat/completions" is appended
  std::string model = "gpt-4o";                        // when a Request names none
  RetryPolicy retry;
  HttpTimeouts timeouts;
  std::string ca_file;                       // PEM bundle replacing the system trust store
  std::optional<std::uint64_t> jitter_seed;  // fixed in tests; drawn from the OS otherwise
};

// The Chat Completions body for `request` (model `model` when the request names none). Tool
// results become role "tool" messages; a failed one's content is prefixed "Error: ", since the
// API has no error flag.
Json openai_request_body(const Request& request, const std::string& model);

// The message of an OpenAI-style error body ({"error":{"message",…}} and the variants
// compatible servers send), "" if it has none.
std::string openai_error_message(std::string_view body);

// "stop" → "end_turn", "tool_calls" → "tool_use", "length" → "max_tokens"; others unchanged.
std::string openai_stop_reason(const std::string& finish_reason);

class OpenAiLlm final : public HttpProviderLlm {
 public:
  // `executor` must outlive the adapter; complete() runs on its thread.
  OpenAiLlm(AsioExecutor& executor, OpenAiConfig config);

  // See Llm::complete. Text deltas reach `on_text` in order as they arrive; tool call
  // arguments are assembled by index and parsed at the end (invalid JSON becomes {}).
  Task<Result<Response>> complete(Request request, TextSink on_text) override;

 private:
  OpenAiConfig config_;
};

}  // namespace reliant::llm
