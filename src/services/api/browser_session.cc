// Browser sessions: the cookie, its CSRF token, password and one-time-link sign-in, sign-out.
#include "services/api/browser_session.h"

#include <array>
#include <optional>
#include <utility>

#include "base/base64url.h"
#include "base/constant_time.h"
#include "base/sha256.h"
#include "core/tool_subjects.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"
#include "services/storage/accounts.h"

namespace reliant::api {
namespace {

constexpr std::string_view kSessionPath = "/api/v1/auth/session";
constexpr std::string_view kLocalPath = "/api/v1/auth/session/local";
constexpr std::string_view kSessionName = "browser session";

std::string digest_of(std::string_view text) {
  const Sha256::Digest digest = Sha256::of(text);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), 32));
}

std::string trimmed(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return std::string(text);
}

}  // namespace

std::string session_cookie_name(const HttpRequest& request) {
  const std::string host = request.header("host");
  // host:port, [v6]:port; a port is digits only, so nothing else of the header reaches a name.
  const std::size_t colon = host.rfind(':');
  if (colon == std::string::npos || host.find(']', colon) != std::string::npos) {
    return std::string(kSessionCookie);
  }
  const std::string port = host.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return std::string(kSessionCookie);
  }
  return std::string(kSessionCookie) + "_" + port;
}

std::string session_cookie(const HttpRequest& request) {
  const std::string name = session_cookie_name(request);
  const std::string header = request.header("cookie");
  std::string_view rest = header;
  while (!rest.empty()) {
    const std::size_t end = rest.find(';');
    const std::string_view pair = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    const std::size_t equals = pair.find('=');
    if (equals == std::string_view::npos) continue;
    if (trimmed(pair.substr(0, equals)) == name) return trimmed(pair.substr(equals + 1));
  }
  return "";
}

std::string csrf_token_for(std::string_view session_token) {
  return digest_of(std::string("reliant-csrf:") + std::string(session_token)).substr(0, 32);
}

bool csrf_ok(const HttpRequest& request, std::string_view session_token) {
  const std::string& method = request.method;
  if (method == "GET" || method == "HEAD" || method == "OPTIONS") return true;
  const std::string sent = request.header(std::string(kCsrfHeader));
  return !sent.empty() && constant_time_equal(sent, csrf_token_for(session_token));
}

std::string LocalSignIn::issue(SecretSource& secrets, SteadyInstant now) {
  std::array<std::uint8_t, 24> secret{};
  secrets.fill(secret.data(), secret.size());
  const std::string code = base64url_encode(
      std::string_view(reinterpret_cast<const char*>(secret.data()), secret.size()));
  code_hash_ = digest_of(code);
  expires_at_ = now + kLifetime;
  return code;
}

std::optional<std::string> LocalSignIn::redeem(std::string_view code, SteadyInstant now) {
  if (code_hash_.empty() || now >= expires_at_) return std::nullopt;
  if (!constant_time_equal(digest_of(code), code_hash_)) return std::nullopt;
  code_hash_.clear();  // once
  return user_id_;
}

BrowserSessions::BrowserSessions(Env& env, SecretSource& secrets, CliLogin* passwords,
                                 LocalSignIn* local, BrowserSessionOptions options)
    : env_(env),
      secrets_(secrets),
      passwords_(passwords),
      local_(local),
      options_(options),
      ids_(env.executor, env.random.split("browser-sessions")) {}

bool BrowserSessions::handles(const HttpRequest& request) {
  return request.path == kSessionPath || request.path == kLocalPath;
}

Task<HttpResponse> BrowserSessions::handle(HttpRequest request) {
  if (request.path == kLocalPath && request.method == "POST") {
    Task<HttpResponse> signing_in = sign_in_locally(request);
    co_return co_await signing_in;
  }
  if (request.path == kSessionPath && request.method == "POST") {
    Task<HttpResponse> signing_in = sign_in(request);
    co_return co_await signing_in;
  }
  if (request.path == kSessionPath && request.method == "GET") {
    Task<HttpResponse> asking = who(request);
    co_return co_await asking;
  }
  if (request.path == kSessionPath && request.method == "DELETE") {
    Task<HttpResponse> signing_out = sign_out(request);
    co_return co_await signing_out;
  }
  co_return error_response(
      {ErrorCode::not_found, "no route " + request.method + " " + request.path});
}

std::string BrowserSessions::cookie(const std::string& name, std::string_view token,
                                    Duration age_max) const {
  return name + "=" + std::string(token) + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age_max).count()) +
         (options_.secure_cookie ? "; Secure" : "");
}

Task<HttpResponse> BrowserSessions::start_session(std::string user_id, std::string name) {
  std::array<std::uint8_t, kPatRandomBytes> secret{};
  secrets_.fill(secret.data(), secret.size());
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const NewToken issued = make_token(secret, ids_.next(), user_id, std::string(kSessionName),
                                     now_ms, now_ms + to_ms(options_.lifetime));
  Task<Result<std::optional<User>>> storing =
      env_.store->transact_for([issued](SqlTransaction& tx) -> Result<std::optional<User>> {
        if (auto inserted = insert_new_token(tx, issued); !inserted) return fail(inserted.error());
        return find_user(tx, issued.meta.user_id);
      });
  Result<std::optional<User>> user = co_await storing;
  if (!user) co_return error_response(user.error());
  HttpResponse response = json_response(200, {{"user_id", issued.meta.user_id},
                                              {"email", *user ? (*user)->email : std::string()},
                                              {"csrf_token", csrf_token_for(issued.token)}});
  response.headers.emplace_back("Set-Cookie", cookie(name, issued.token, options_.lifetime));
  response.headers.emplace_back("Cache-Control", "no-store");
  co_return response;
}

Task<HttpResponse> BrowserSessions::sign_in(const HttpRequest& request) {
  if (passwords_ == nullptr) {
    co_return error_response(
        {ErrorCode::not_found, "password sign-in is not enabled on this server: use a token"});
  }
  auto body = parse_json_body(request);
  if (!body) co_return error_response(body.error());
  const Json& email = (*body)["email"];
  const Json& password = (*body)["password"];
  if (!email.is_string() || !password.is_string()) {
    co_return error_response(
        {ErrorCode::invalid_argument, "sign in with {\"email\": TEXT, \"password\": TEXT}"});
  }
  Task<Result<std::string>> checking = passwords_->check_password(
      email.get<std::string>(), password.get<std::string>(), request.limit_key());
  Result<std::string> user_id = co_await checking;
  if (!user_id) co_return error_response(user_id.error());
  Task<HttpResponse> starting = start_session(std::move(*user_id), session_cookie_name(request));
  co_return co_await starting;
}

Task<HttpResponse> BrowserSessions::sign_in_locally(const HttpRequest& request) {
  if (local_ == nullptr) {
    co_return error_response({ErrorCode::not_found, "this server prints no sign-in links"});
  }
  auto body = parse_json_body(request);
  if (!body) co_return error_response(body.error());
  const Json& code = (*body)["code"];
  const std::optional<std::string> user_id =
      code.is_string() ? local_->redeem(code.get<std::string>(), env_.executor.steady_now())
                       : std::nullopt;
  if (!user_id) {
    co_return error_response(
        {ErrorCode::unauthenticated,
         "this sign-in link is used, expired or wrong: restart the monolith for a new one"});
  }
  Task<HttpResponse> starting = start_session(*user_id, session_cookie_name(request));
  co_return co_await starting;
}

Task<HttpResponse> BrowserSessions::who(const HttpRequest& request) {
  const std::string token = session_cookie(request);
  if (token.empty()) co_return error_response({ErrorCode::unauthenticated, "not signed in"});
  Task<Result<Authenticated>> checking =
      env_.store->transact_for([token, now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) {
        return authenticate_token(tx, token, now_ms);
      });
  Result<Authenticated> who = co_await checking;
  if (!who) co_return error_response(who.error());
  HttpResponse response = json_response(200, {{"user_id", who->user.id},
                                              {"email", who->user.email},
                                              {"csrf_token", csrf_token_for(token)}});
  response.headers.emplace_back("Cache-Control", "no-store");
  co_return response;
}

Task<HttpResponse> BrowserSessions::sign_out(const HttpRequest& request) {
  const std::string token = session_cookie(request);
  if (!token.empty()) {
    if (!csrf_ok(request, token)) {
      co_return error_response({ErrorCode::permission_denied, "missing or wrong X-CSRF-Token"});
    }
    // The revoked token's (user, id), when there was one to revoke.
    using Revoked = std::optional<std::pair<std::string, std::string>>;
    Task<Result<Revoked>> revoking = env_.store->transact_for(
        [token, now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) -> Result<Revoked> {
          auto who = authenticate_token(tx, token, now_ms);
          if (!who) return Revoked{};  // already gone
          if (auto done = revoke_token(tx, who->token_id, now_ms); !done) return fail(done.error());
          return Revoked{{who->user.id, who->token_id}};
        });
    Result<Revoked> revoked = co_await revoking;
    if (!revoked) co_return error_response(revoked.error());
    // Streams the session opened (updates, terminals) end now, not at their next re-check.
    if (*revoked && env_.bus != nullptr) {
      (void)env_.bus->publish(subjects::credential_revoked((*revoked)->first), (*revoked)->second);
    }
  }
  HttpResponse response = json_response(200, {{"signed_out", true}});
  response.headers.emplace_back("Set-Cookie", cookie(session_cookie_name(request), "", seconds(0)));
  co_return response;
}

}  // namespace reliant::api
