// AnthropicLlm: the Llm port on Anthropic's Messages API (POST /v1/messages, streamed as SSE).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "adapters/asio/asio_executor.h"
#include "adapters/llm/llm_http.h"
#include "runtime/llm.h"
#include "runtime/random.h"

namespace reliant::llm {

struct AnthropicConfig {
  std::string api_key;
  std::string base_url = "https://api.anthropic.com";  // "/v1/messages" is appended
  std::string model = "claude-sonnet-4-5";             // when a Request names none
  std::string api_version = "2023-06-01";
  RetryPolicy retry;
  HttpTimeouts timeouts;
  std::string ca_file;                       // PEM bundle replacing the system trust store
  std::optional<std::uint64_t> jitter_seed;  // fixed in tests; drawn from the OS otherwise
};

// The Messages API body for `request` (model `model` when the request names none). Messages
// of the same wire role in a row are merged, since the API wants user and assistant turns to
// alternate; our tool-role messages become user messages of tool_result blocks.
Json anthropic_request_body(const Request& request, const std::string& model);

// The message of an Anthropic error body ({"type":"error","error":{"type","message"}}), "" if
// it has none.
std::string anthropic_error_message(std::string_view body);

class AnthropicLlm final : public HttpProviderLlm {
 public:
  // `executor` must outlive the adapter; complete() runs on its thread.
  AnthropicLlm(AsioExecutor& executor, AnthropicConfig config);

  // See Llm::complete. Text deltas reach `on_text` in order as they arrive. Retries follow
  // call_with_retries (and Anthropic's in-stream overloaded_error/api_error events).
  Task<Result<Response>> complete(Request request, TextSink on_text) override;

 private:
  AnthropicConfig config_;
};

}  // namespace reliant::llm
