// HttpClient: outbound HTTP as a port — a daemon's MCP servers reached over Streamable HTTP or
// the older HTTP+SSE transport. The real adapter (adapters/llm/outbound_http.h) opens a fresh
// connection per request; a test or the simulator answers requests itself.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "runtime/task.h"

namespace reliant {

struct HttpClientRequest {
  std::string method = "POST";  // GET, POST, DELETE …
  std::string url;              // http:// or https://
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  Duration total_timeout = minutes(10);  // connect to the last byte
  Duration idle_timeout = minutes(2);    // the longest silence between bytes
};

struct HttpClientHead {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case; repeats joined by ", "
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Sends `request`. `on_head` hears the status and headers as soon as they arrive, then
  // `on_body` each piece of the body as it comes (an event stream's events as they are sent);
  // returning false stops reading. Resolves with the head once the body has ended or was
  // stopped. Fails with invalid_argument (a bad URL), unavailable (resolve, connect, TLS or I/O;
  // a body cut short) or timeout. Any status is a success here. Destroying the awaiting task
  // closes the connection. Both callbacks run on the caller's executor.
  virtual Task<Result<HttpClientHead>> send(HttpClientRequest request,
                                            std::function<void(const HttpClientHead&)> on_head,
                                            std::function<bool(std::string_view)> on_body) = 0;
};

}  // namespace reliant
