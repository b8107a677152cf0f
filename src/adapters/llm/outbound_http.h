// OutboundHttpClient: the HttpClient port (runtime/http_client.h) on LlmHttpClient — the same
// connections, TLS verification and timeouts the LLM providers get, for any method, with the
// head told before the body and every status's body streamed.
#pragma once

#include "adapters/llm/llm_http.h"
#include "runtime/http_client.h"

namespace reliant::llm {

class OutboundHttpClient final : public HttpClient {
 public:
  // `executor` must outlive the client and every call; `ca_file` as LlmHttpClient takes it.
  explicit OutboundHttpClient(AsioExecutor& executor, std::string ca_file = {});

  Task<Result<HttpClientHead>> send(HttpClientRequest request,
                                    std::function<void(const HttpClientHead&)> on_head,
                                    std::function<bool(std::string_view)> on_body) override;

 private:
  LlmHttpClient http_;
};

}  // namespace reliant::llm
