// Reaching the API server from a CLI command: the options every such command takes (--server,
// --token, --tls-ca, --insecure, --data-dir), and a client that calls REST routes with the
// user's token. With no --server or --token, the environment (RELIANT_SERVER_URL,
// RELIANT_TOKEN), then the saved login of `reliant auth login`, then a monolith's data directory
// (its local token and self-signed certificate) supply them (core/client_credentials.h).
#pragma once

#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "app/http_client.h"
#include "base/result.h"

namespace reliant {

struct ApiClientOptions {
  std::string server;  // --server; empty: RELIANT_SERVER_URL, the saved login's, or the local one
  std::string tls_ca;
  bool insecure = false;
  std::string token;     // --token; empty: RELIANT_TOKEN, the saved login's, or the data dir's
  std::string data_dir;  // --data-dir or DATA_DIR; empty: ./data
};

void add_api_client_options(CLI::App& command, ApiClientOptions& options);

class ApiClient {
 public:
  // Fails (invalid_argument) on a malformed URL or when no token can be found. Prints a warning
  // line on stderr for each deprecated setting it read (RELIANT_SERVER).
  static Result<ApiClient> open(const ApiClientOptions& options);

  // A JSON call. A refusal by the server (any 4xx/5xx) is failed_precondition with the
  // server's message (a refused token also says where the token came from); unavailable and
  // timeout mean it could not be reached.
  Result<nlohmann::json> call(const std::string& method, const std::string& target,
                              const nlohmann::json& body = nullptr) const;

  const HttpEndpoint& endpoint() const { return endpoint_; }
  const HttpHeaders& auth() const { return auth_; }

 private:
  HttpEndpoint endpoint_;
  HttpHeaders auth_;
  std::string server_;
  std::string token_origin_;  // "the saved login (FILE)", "--token", … for a refused token
  std::string token_remedy_;  // what to do when the token is refused
};

// Prints the error (terminal controls stripped) and returns the exit status: 1 when the server
// refused or failed, 2 when it could not be reached or the arguments were wrong.
int report_api_error(const Error& error);

}  // namespace reliant
