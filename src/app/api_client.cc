// The CLI's API client: server, trust and token from options, the environment, the saved login
// or a monolith's data dir (core/client_credentials.h decides which), then JSON calls.
#include "app/api_client.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "app/daemon_files.h"
#include "app/local_account.h"
#include "base/terminal_text.h"
#include "core/client_credentials.h"

namespace reliant {
namespace {

constexpr const char* kLocalDataDir = "./data";

std::string environment_value(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

struct LoginFile {
  std::optional<SavedLogin> login;
  std::string path;  // empty when HOME is not set
};

// `reliant auth login`'s credentials. An unreadable file is no login, with a warning.
LoginFile read_saved_login() {
  LoginFile out;
  auto paths = daemon_paths();
  if (!paths) return out;
  out.path = paths->login;
  auto loaded = load_credentials(paths->login);
  if (!loaded) {
    std::fprintf(stderr, "warning: ignoring the saved login: %s\n",
                 strip_terminal_controls(loaded.error().message).c_str());
  } else if (*loaded) {
    out.login = SavedLogin{(*loaded)->server, (*loaded)->token};
  }
  return out;
}

// A token, where it came from and what to do when the server refuses it.
struct TokenInUse {
  std::string token;
  std::string origin;  // "the saved login in FILE", "--token", … for a refused token
  std::string remedy;
};

// The token `chosen` says to use (DATA_DIR/auth/token is read here); invalid_argument, with
// every way to give one, when there is none.
Result<TokenInUse> token_in_use(const ClientCredentials& chosen, const LoginFile& saved,
                                const std::string& data_dir) {
  TokenInUse out{chosen.token, std::string(token_source_name(chosen.token_source)), ""};
  switch (chosen.token_source) {
    case TokenSource::saved_login:
      out.origin += " in " + saved.path;
      out.remedy = "sign in again with `reliant auth login --server " + chosen.server + "`";
      break;
    case TokenSource::data_dir: {
      auto local = read_local_token(data_dir);
      if (!local) {
        std::string message = "no token for " + chosen.server +
                              ": pass --token, set RELIANT_TOKEN, sign in with `reliant auth "
                              "login --server " +
                              chosen.server +
                              "`, or point --data-dir at a monolith's data directory (" +
                              local.error().message + ")";
        if (saved.login && !saved.login->token.empty()) {
          message += "; the saved login is for " + saved.login->server;
        }
        return fail(ErrorCode::invalid_argument, message);
      }
      out.token = *local;
      out.origin = local_token_path(data_dir);
      out.remedy =
          "is " + data_dir + " the data directory of the monolith at " + chosen.server + "?";
      break;
    }
    case TokenSource::flag:
    case TokenSource::environment:
      out.remedy = "revoked or expired? `reliant admin token create` makes another";
      break;
  }
  return out;
}

}  // namespace

void add_api_client_options(CLI::App& command, ApiClientOptions& o) {
  command.add_option("--server", o.server,
                     "API server URL (env RELIANT_SERVER_URL; default: the saved login's, else " +
                         std::string(kDefaultClientServer) + ")");
  command.add_option("--token", o.token,
                     "Personal access token (env RELIANT_TOKEN; default: the saved login's for "
                     "the server, else DATA_DIR/auth/token)");
  command.add_option("--tls-ca", o.tls_ca,
                     "PEM roots to check the server with (default: the system's; for https, "
                     "DATA_DIR/tls/cert.pem when it exists, unless the saved login names the "
                     "server)");
  command.add_flag("--insecure", o.insecure, "https without checking the server's certificate");
  command
      .add_option("--data-dir", o.data_dir,
                  "A monolith's data directory, for its local token and certificate (default: "
                  "./data)")
      ->envname("DATA_DIR");
}

Result<ApiClient> ApiClient::open(const ApiClientOptions& o) {
  const LoginFile saved = read_saved_login();
  ClientCredentialSources sources;
  sources.server_flag = o.server;
  sources.server_env = environment_value("RELIANT_SERVER_URL");
  sources.legacy_server_env = environment_value("RELIANT_SERVER");
  sources.token_flag = o.token;
  sources.token_env = environment_value("RELIANT_TOKEN");
  sources.login = saved.login;
  sources.data_dir_given = !o.data_dir.empty();
  const ClientCredentials chosen = choose_client_credentials(sources);
  for (const std::string& warning : chosen.warnings) {
    std::fprintf(stderr, "warning: %s\n", warning.c_str());
  }
  const std::string data_dir = o.data_dir.empty() ? kLocalDataDir : o.data_dir;

  auto endpoint = parse_http_endpoint(chosen.server);
  if (!endpoint) return fail(ErrorCode::invalid_argument, endpoint.error().message);
  endpoint->insecure = o.insecure;
  endpoint->ca_file = o.tls_ca;
  // A monolith's own certificate is self-signed: trust the one in its data dir, if any — not for
  // a server the saved login chose, which its sign-in reached with the system's roots.
  if (endpoint->tls && o.tls_ca.empty() && chosen.server_source != ServerSource::saved_login) {
    const std::string local_cert = data_dir + "/tls/cert.pem";
    std::error_code ec;
    if (std::filesystem::exists(local_cert, ec)) endpoint->ca_file = local_cert;
  }

  auto token = token_in_use(chosen, saved, data_dir);
  if (!token) return fail(token.error());
  ApiClient client;
  client.token_origin_ = std::move(token->origin);
  client.token_remedy_ = std::move(token->remedy);
  client.server_ = chosen.server;
  client.endpoint_ = std::move(*endpoint);
  client.auth_ = HttpHeaders{{"Authorization", "Bearer " + token->token}};
  return client;
}

Result<nlohmann::json> ApiClient::call(const std::string& method, const std::string& target,
                                       const nlohmann::json& body) const {
  int status = 0;
  auto json = http_json_call(endpoint_, method, target, auth_, body, &status);
  if (!json && status == 401) {
    return fail(ErrorCode::failed_precondition, server_ + " refused the token from " +
                                                    token_origin_ + " (" + json.error().message +
                                                    "); " + token_remedy_);
  }
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
