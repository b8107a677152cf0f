// A small blocking HTTP/1.1 client for the CLI (`reliant chat`, `reliant auth`): JSON requests
// and a streamed GET for server-sent events, over http:// or https:// (TLS 1.2+, the server's
// certificate checked against the system's roots or a given CA file, name or IP included).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.h"
#include "base/url_encoding.h"  // url_encode, for the query strings callers build

namespace reliant {

struct HttpEndpoint {
  std::string host;
  std::string port;
  std::string base_path;  // "" or "/prefix", prepended to every target
  bool tls = false;       // https://
  std::string ca_file;    // PEM roots to check the server with; empty: the system's (and
                          // OpenSSL's SSL_CERT_FILE)
  bool insecure = false;  // https without checking the certificate (development only)
};

// "http://127.0.0.1:8080" → {127.0.0.1, 8080, ""}; "https://host" → port 443, tls. Precise
// errors for anything else.
Result<HttpEndpoint> parse_http_endpoint(const std::string& url);

struct HttpReply {
  int status = 0;
  std::string body;
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// One keep-alive connection to an endpoint, used by call after call (a TLS handshake once, not
// per request); connected on the first call and again after the server closed it or a call
// failed. Not thread-safe.
class HttpSession {
 public:
  explicit HttpSession(HttpEndpoint endpoint);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Fails as http_call does. A failed call is not retried: the request may have arrived.
  Result<HttpReply> call(const std::string& method, const std::string& target,
                         const HttpHeaders& headers, const std::string& body,
                         std::chrono::seconds timeout = std::chrono::seconds(30));

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One request on a connection of its own. Fails with `unavailable` (cannot connect, connection
// lost) or `timeout`.
Result<HttpReply> http_call(const HttpEndpoint& endpoint, const std::string& method,
                            const std::string& target, const HttpHeaders& headers,
                            const std::string& body,
                            std::chrono::seconds timeout = std::chrono::seconds(30));

// "server answered 404: no chat abc" from an error reply's {"error": {"message": …}}.
std::string server_error(const HttpReply& reply);

// http_call with a JSON body (null: none) whose 2xx answer is JSON. A non-2xx answer fails with
// server_error's message and a code from its status (401 → unauthenticated, 404 → not_found,
// other 4xx → failed_precondition, 5xx → internal). unavailable and timeout mean the server
// was not reached (or stopped answering). `status`, when given, gets the answer's HTTP status
// (0 when none came): 401 and 403 share a code.
Result<nlohmann::json> http_json_call(const HttpEndpoint& endpoint, const std::string& method,
                                      const std::string& target, const HttpHeaders& headers,
                                      const nlohmann::json& body, int* status = nullptr);

// GETs `target` and hands each piece of the body to `on_data` as it arrives until it returns
// false or the server ends the body. A non-2xx answer is returned whole in the reply instead.
// `idle_timeout`: the longest silence tolerated (servers send keepalives).
Result<HttpReply> http_stream(const HttpEndpoint& endpoint, const std::string& target,
                              const HttpHeaders& headers,
                              const std::function<bool(std::string_view)>& on_data,
                              std::chrono::seconds idle_timeout = std::chrono::seconds(60));

}  // namespace reliant
