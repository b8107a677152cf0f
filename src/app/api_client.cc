// The CLI's API client: endpoint, trust and token from options, then JSON calls.
#include "app/api_client.h"

#include <cstdio>
#include <filesystem>

#include "app/local_account.h"
#include "base/terminal_text.h"

namespace reliant {

void add_api_client_options(CLI::App& command, ApiClientOptions& o) {
  command.add_option("--server", o.server, "API server URL")
      ->envname("RELIANT_SERVER")
      ->capture_default_str();
  command.add_option("--token", o.token, "Personal access token (default: DATA_DIR/auth/token)")
      ->envname("RELIANT_TOKEN");
  command.add_option("--tls-ca", o.tls_ca,
                     "PEM roots to check the server with (default: the system's; for https, "
                     "DATA_DIR/tls/cert.pem when it exists)");
  command.add_flag("--insecure", o.insecure, "https without checking the server's certificate");
  command
      .add_option("--data-dir", o.data_dir,
                  "A monolith's data directory, for its local token and certificate")
      ->envname("DATA_DIR")
      ->capture_default_str();
}

Result<ApiClient> ApiClient::open(const ApiClientOptions& o) {
  auto endpoint = parse_http_endpoint(o.server);
  if (!endpoint) return fail(ErrorCode::invalid_argument, endpoint.error().message);
  // A monolith's own certificate is self-signed: trust the one in its data dir, if any.
  endpoint->insecure = o.insecure;
  endpoint->ca_file = o.tls_ca;
  if (endpoint->tls && o.tls_ca.empty()) {
    const std::string local_cert = o.data_dir + "/tls/cert.pem";
    std::error_code ec;
    if (std::filesystem::exists(local_cert, ec)) endpoint->ca_file = local_cert;
  }
  std::string token = o.token;
  if (token.empty()) {
    auto saved = read_local_token(o.data_dir);
    if (!saved) {
      return fail(ErrorCode::invalid_argument,
                  "no token: pass --token, set RELIANT_TOKEN, or point --data-dir at a "
                  "monolith's data directory (" +
                      saved.error().message + ")");
    }
    token = *saved;
  }
  ApiClient client;
  client.endpoint_ = std::move(*endpoint);
  client.auth_ = HttpHeaders{{"Authorization", "Bearer " + token}};
  return client;
}

Result<nlohmann::json> ApiClient::call(const std::string& method, const std::string& target,
                                       const nlohmann::json& body) const {
  auto json = http_json_call(endpoint_, method, target, auth_, body);
  // Any refusal by the server is exit status 1, like a failed run; 2 is for reaching it.
  if (!json && json.error().code != ErrorCode::unavailable &&
      json.error().code != ErrorCode::timeout) {
    return fail(ErrorCode::failed_precondition, json.error().message);
  }
  return json;
}

int report_api_error(const Error& error) {
  std::fprintf(stderr, "error: %s\n", strip_terminal_controls(error.message).c_str());
  const bool servers = error.code == ErrorCode::failed_precondition ||
                       error.code == ErrorCode::internal || error.code == ErrorCode::unimplemented;
  return servers ? 1 : 2;
}

}  // namespace reliant
