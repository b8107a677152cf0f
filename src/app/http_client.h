// A small blocking HTTP/1.1 client for the CLI (`reliant chat`, `reliant auth`): JSON requests
// and a streamed GET for server-sent events. Plain http:// only for now.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace reliant {

struct HttpEndpoint {
  std::string host;
  std::string port;
  std::string base_path;  // "" or "/prefix", prepended to every target
};

// "http://127.0.0.1:8080" → {127.0.0.1, 8080, ""}. Precise errors for anything else.
Result<HttpEndpoint> parse_http_endpoint(const std::string& url);

struct HttpReply {
  int status = 0;
  std::string body;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// Fails with `unavailable` (cannot connect, connection lost) or `timeout`.
Result<HttpReply> http_call(const HttpEndpoint& endpoint, const std::string& method,
                            const std::string& target, const HttpHeaders& headers,
                            const std::string& body,
                            std::chrono::seconds timeout = std::chrono::seconds(30));

// GETs `target` and hands each piece of the body to `on_data` as it arrives until it returns
// false or the server ends the body. A non-2xx answer is returned whole in the reply instead.
// `idle_timeout`: the longest silence tolerated (servers send keepalives).
Result<HttpReply> http_stream(const HttpEndpoint& endpoint, const std::string& target,
                              const HttpHeaders& headers,
                              const std::function<bool(std::string_view)>& on_data,
                              std::chrono::seconds idle_timeout = std::chrono::seconds(60));

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view text);

}  // namespace reliant
