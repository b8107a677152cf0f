// Sign-in through the browser (or a token on stdin), sign-out that revokes the token on the
// server, and a status line.
#include "app/auth_commands.h"

#include <cstdio>
#include <iostream>
#include <memory>

#include "app/browser_login.h"
#include "app/daemon_files.h"
#include "app/http_client.h"
#include "core/personal_access_token.h"

namespace reliant {
namespace {

struct LoginOptions {
  std::string server = "http://127.0.0.1:8080";
  bool no_browser = false;
  bool token_from_stdin = false;
  int timeout_s = 300;
};

int say(const Error& error) {
  std::fprintf(stderr, "error: %s\n", error.message.c_str());
  return 1;
}

std::string trimmed_server(std::string server) {
  while (!server.empty() && server.back() == '/') server.pop_back();
  return server;
}

int run_login(const LoginOptions& o) {
  auto paths = daemon_paths();
  if (!paths) return say(paths.error());
  const std::string server = trimmed_server(o.server);
  DaemonCredentials login;
  login.server = server;
  if (o.token_from_stdin) {
    std::string token;
    std::getline(std::cin, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
    if (!looks_like_pat(token)) {
      return say({ErrorCode::invalid_argument,
                  "stdin does not hold a personal access token (expected rlnt_pat_…)"});
    }
    auto user = whoami(server, token);
    if (!user) return say(user.error());
    login.token = token;
    login.user_id = *user;
  } else {
    BrowserLoginOptions browser;
    browser.server = server;
    browser.token_name = "cli login";
    browser.open_browser = !o.no_browser;
    browser.timeout = std::chrono::seconds(o.timeout_s);
    auto issued = browser_login(browser);
    if (!issued) return say(issued.error());
    login.token = issued->token;
    login.token_id = issued->token_id;
    login.user_id = issued->user_id;
    login.email = issued->email;
  }
  if (auto saved = save_credentials(paths->login, login); !saved) return say(saved.error());
  std::printf("Logged in to %s as %s; credentials saved to %s\n", server.c_str(),
              login.email.empty() ? login.user_id.c_str() : login.email.c_str(),
              paths->login.c_str());
  return 0;
}

int run_logout() {
  auto paths = daemon_paths();
  if (!paths) return say(paths.error());
  auto login = load_credentials(paths->login);
  if (!login) return say(login.error());
  if (!*login) {
    std::printf("not logged in\n");
    return 0;
  }
  // Revoke on the server first; a server that cannot be reached still gets the file deleted,
  // with a warning that the token lives on until revoked there.
  if (!(*login)->token_id.empty()) {
    auto endpoint = parse_http_endpoint((*login)->server);
    Result<nlohmann::json> revoked =
        endpoint ? http_json_call(*endpoint, "DELETE",
                                  endpoint->base_path + "/api/v1/tokens/" + (*login)->token_id,
                                  {{"Authorization", "Bearer " + (*login)->token}}, nullptr)
                 : Result<nlohmann::json>(fail(endpoint.error()));
    if (!revoked && revoked.error().code != ErrorCode::unauthenticated) {
      std::fprintf(stderr, "warning: could not revoke the token on %s (%s); revoke it there\n",
                   (*login)->server.c_str(), revoked.error().message.c_str());
    }
  }
  if (auto removed = remove_file_if_exists(paths->login); !removed) return say(removed.error());
  std::printf("logged out of %s\n", (*login)->server.c_str());
  return 0;
}

int run_status() {
  auto paths = daemon_paths();
  if (!paths) return say(paths.error());
  auto login = load_credentials(paths->login);
  if (!login) return say(login.error());
  if (!*login) {
    std::printf("not logged in (run `reliant auth login`)\n");
    return 1;
  }
  const auto& l = **login;
  std::printf("logged in to %s as %s (%s…)\n", l.server.c_str(),
              l.email.empty() ? l.user_id.c_str() : l.email.c_str(),
              pat_display_prefix(l.token).c_str());
  return 0;
}

}  // namespace

void add_auth_commands(CLI::App& app, int& exit_code) {
  auto* auth = app.add_subcommand("auth", "Sign this machine in to an api server");
  auth->require_subcommand(1);
  auto o = std::make_shared<LoginOptions>();
  auto* login = auth->add_subcommand("login", "Sign in through the browser and save a token");
  login->add_option("--server", o->server, "API server URL")
      ->envname("RELIANT_SERVER_URL")
      ->capture_default_str();
  login->add_flag("--no-browser", o->no_browser, "Print the sign-in URL instead of opening it");
  login->add_flag("--token", o->token_from_stdin, "Read a PAT from stdin instead of browser auth");
  login->add_option("--timeout", o->timeout_s, "Seconds to wait for the browser sign-in")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  login->callback([o, &exit_code] { exit_code = run_login(*o); });
  auth->add_subcommand("logout", "Revoke and delete this machine's login")->callback([&exit_code] {
    exit_code = run_logout();
  });
  auth->add_subcommand("status", "Show who this machine is logged in as")->callback([&exit_code] {
    exit_code = run_status();
  });
}

}  // namespace reliant
