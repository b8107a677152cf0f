// Reaching the API server from a CLI command: the options every such command takes (--server,
// --token, --tls-ca, --insecure, --data-dir), and a client that calls REST routes with the
// user's token. A monolith's own self-signed certificate and local token are found in its data
// directory when none is given.
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/http_client.h"
#include "base/result.h"

namespace reliant {

struct ApiClientOptions {
  std::string server = "https://127.0.0.1:8080";
  std::string tls_ca;
  bool insecure = false;
  std::string token;
  std::string data_dir = "./data";
};

void add_api_client_options(CLI::App& command, ApiClientOptions& options);

class ApiClient {
 public:
  // Fails (invalid_argument) on a malformed URL or when no token can be found.
  static Result<ApiClient> open(const ApiClientOptions& options);

  // A JSON call. A refusal by the server (any 4xx/5xx) is failed_precondition with the
  // server's message; unavailable and timeout mean it could not be reached.
  Result<nlohmann::json> call(const std::string& method, const std::string& target,
                              const nlohmann::json& body = nullptr) const;

  const HttpEndpoint& endpoint() const { return endpoint_; }
  const HttpHeaders& auth() const { return auth_; }

 private:
  HttpEndpoint endpoint_;
  HttpHeaders auth_;
};

// Prints the error (terminal controls stripped) and returns the exit status: 1 when the server
// refused or failed, 2 when it could not be reached or the arguments were wrong.
int report_api_error(const Error& error);

}  // namespace reliant
