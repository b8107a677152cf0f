// The loopback flow of RFC 8252 on the project's HTTP server adapter, and the token calls.
#include "app/browser_login.h"

#include <spawn.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "adapters/asio/asio_executor.h"
#include "adapters/http/http_server.h"
#include "app/http_client.h"
#include "app/secure_random.h"
#include "base/base64url.h"
#include "base/constant_time.h"
#include "base/url_encoding.h"
#include "core/pkce.h"

extern char** environ;

namespace reliant {
namespace {

using Json = nlohmann::json;

std::string random_text(std::size_t bytes) {
  std::array<std::uint8_t, 64> buffer{};
  secure_random_bytes(buffer.data(), bytes);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(buffer.data()), bytes));
}

// Answers the browser's one request to http://127.0.0.1:PORT/callback, then stops the loop.
class CallbackHandler final : public HttpHandler {
 public:
  CallbackHandler(AsioExecutor& executor, std::string state)
      : executor_(executor), state_(std::move(state)) {}

  Task<HttpResponse> handle(HttpRequest request) override {
    HttpResponse response;
    response.content_type = "text/html; charset=utf-8";
    if (request.path != "/callback" || request.method != "GET") {
      response.status = 404;
      response.body = "not found";
      co_return response;
    }
    const auto get = [&](const char* name) {
      auto it = request.query.find(name);
      return it == request.query.end() ? std::string() : it->second;
    };
    // A request without our state is not the browser we sent: ignore it and keep waiting.
    if (!constant_time_equal(get("state"), state_)) {
      response.status = 400;
      response.body = "<p>This sign-in was not started by this command. Close this window.</p>";
      co_return response;
    }
    if (!get("error").empty()) {
      outcome_ =
          fail(ErrorCode::unauthenticated, "the server refused the sign-in: " + get("error"));
    } else if (get("code").empty()) {
      outcome_ = fail(ErrorCode::unauthenticated, "the server sent no login code");
    } else {
      outcome_ = get("code");
    }
    response.status = 200;
    response.body = outcome_->has_value()
                        ? "<p>Signed in. You can close this window and return to the terminal.</p>"
                        : "<p>Sign-in failed. Return to the terminal.</p>";
    // Let the answer reach the browser before the loop stops.
    executor_.after(milliseconds(200), [this] { executor_.stop(); });
    co_return response;
  }

  // Set once the browser came back.
  const std::optional<Result<std::string>>& outcome() const { return outcome_; }

 private:
  AsioExecutor& executor_;
  std::string state_;
  std::optional<Result<std::string>> outcome_;
};

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  std::string_view rest = path;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    const std::filesystem::path dir(std::string(rest.substr(0, colon)));
    std::error_code ec;
    if (!dir.empty() && std::filesystem::exists(dir / program, ec)) return true;
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  return false;
}

// $BROWSER if set (the convention of xdg-utils and Python's webbrowser), else xdg-open when a
// display is there to show it. The browser is not waited for.
bool open_in_browser(const std::string& url) {
  std::string program;
  if (const char* browser = std::getenv("BROWSER"); browser != nullptr && *browser != '\0') {
    program = browser;
  } else if ((std::getenv("DISPLAY") != nullptr || std::getenv("WAYLAND_DISPLAY") != nullptr) &&
             on_path("xdg-open")) {
    program = "xdg-open";
  } else {
    return false;
  }
  std::string argument = url;
  char* argv[] = {program.data(), argument.data(), nullptr};
  pid_t pid = 0;
  return ::posix_spawnp(&pid, program.c_str(), nullptr, nullptr, argv, environ) == 0;
}

IssuedToken issued_from(const Json& json) {
  return IssuedToken{json.value("token", ""), json.value("token_id", json.value("id", "")),
                     json.value("user_id", ""), json.value("email", "")};
}

}  // namespace

Result<IssuedToken> browser_login(const BrowserLoginOptions& options) {
  auto endpoint = parse_http_endpoint(options.server);
  if (!endpoint) return fail(endpoint.error());
  const std::string state = random_text(24);
  const std::string verifier = random_text(48);  // 64 characters

  AsioExecutor executor;
  CallbackHandler handler(executor, state);
  HttpServerOptions listen;
  listen.bind_address = "127.0.0.1";
  auto server = HttpServer::start(executor, listen, handler);
  if (!server) return fail(server.error());
  const std::string redirect_uri =
      "http://127.0.0.1:" + std::to_string((*server)->port()) + "/callback";
  const std::string url = options.server + "/cli/login?redirect_uri=" + url_encode(redirect_uri) +
                          "&state=" + url_encode(state) +
                          "&code_challenge=" + pkce_challenge(verifier) +
                          "&code_challenge_method=S256";
  if (options.open_browser && open_in_browser(url)) {
    std::fprintf(stderr, "Opened your browser to sign in. If it did not open, visit:\n  %s\n",
                 url.c_str());
  } else {
    std::fprintf(stderr, "Open this URL in a browser on this machine to sign in:\n  %s\n",
                 url.c_str());
  }
  std::fprintf(stderr, "Waiting for the sign-in (up to %lld s)...\n",
               static_cast<long long>(options.timeout.count()));
  executor.after(std::chrono::duration_cast<Duration>(options.timeout),
                 [&executor] { executor.stop(); });
  executor.run();
  server->reset();
  if (!handler.outcome()) {
    return fail(ErrorCode::timeout, "nobody signed in within " +
                                        std::to_string(options.timeout.count()) +
                                        " s; run the command again");
  }
  const Result<std::string>& code = *handler.outcome();
  if (!code) return fail(code.error());

  auto traded =
      http_json_call(*endpoint, "POST", endpoint->base_path + "/api/v1/auth/cli/token", {},
                     Json{{"code", *code},
                          {"code_verifier", verifier},
                          {"redirect_uri", redirect_uri},
                          {"token_name", options.token_name}});
  if (!traded) return fail(traded.error());
  IssuedToken issued = issued_from(*traded);
  if (issued.token.empty()) return fail(ErrorCode::internal, "the server's answer has no token");
  return issued;
}

Result<IssuedToken> create_token_with(const std::string& server, const std::string& token,
                                      const std::string& name) {
  auto endpoint = parse_http_endpoint(server);
  if (!endpoint) return fail(endpoint.error());
  auto created = http_json_call(*endpoint, "POST", endpoint->base_path + "/api/v1/tokens",
                                {{"Authorization", "Bearer " + token}}, Json{{"name", name}});
  if (!created) return fail(created.error());
  IssuedToken issued = issued_from(*created);
  if (issued.token.empty() || issued.user_id.empty())
    return fail(ErrorCode::internal, "the server's answer has no token or user");
  return issued;
}

Result<std::string> whoami(const std::string& server, const std::string& token) {
  auto endpoint = parse_http_endpoint(server);
  if (!endpoint) return fail(endpoint.error());
  auto me = http_json_call(*endpoint, "GET", endpoint->base_path + "/api/v1/me",
                           {{"Authorization", "Bearer " + token}}, Json());
  if (!me) return fail(me.error());
  return me->value("user_id", "");
}

}  // namespace reliant
