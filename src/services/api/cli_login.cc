// The browser sign-in page, the code it hands out, and the code-for-token exchange.
#include "services/api/cli_login.h"

#include <algorithm>
#include <array>
#include <memory>

#include "base/base64url.h"
#include "base/constant_time.h"
#include "base/sha256.h"
#include "base/url_encoding.h"
#include "core/personal_access_token.h"
#include "core/pkce.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"
#include "services/storage/accounts.h"
#include "services/storage/login_codes.h"

namespace reliant::api {
namespace {

constexpr std::string_view kLoginPath = "/cli/login";
constexpr std::string_view kExchangePath = "/api/v1/auth/cli/token";
constexpr std::int64_t kCodeLifetimeMs = 5 * 60 * 1000;
constexpr std::size_t kStateBytesMax = 256;
// Password guessing: five failures per account, twenty per client address, per 15 minutes.
constexpr int kAccountFailures = 5;
constexpr int kAddressFailures = 20;
constexpr Duration kFailureWindow = minutes(15);

std::string lower_case(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return text;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

HttpResponse html_response(int status, const std::string& title, const std::string& body) {
  HttpResponse response;
  response.status = status;
  response.content_type = "text/html; charset=utf-8";
  response.body = "<!doctype html><html><head><meta charset=\"utf-8\"><title>" + title +
                  "</title><style>body{font-family:sans-serif;max-width:28em;margin:4em auto}"
                  "label,input,button{display:block;width:100%;margin:.4em 0}"
                  ".error{color:#b00}</style></head><body><h1>" +
                  title + "</h1>" + body + "</body></html>";
  // The page is the sign-in form: no framing by other sites, no caching of what was typed.
  response.headers = {{"X-Frame-Options", "DENY"},
                      {"Content-Security-Policy",
                       "default-src 'none'; style-src 'unsafe-inline'; "
                       "form-action 'self'; frame-ancestors 'none'"},
                      {"Cache-Control", "no-store"}};
  return response;
}

HttpResponse bad_request_page(const std::string& why) {
  return html_response(400, "Cannot sign in",
                       "<p class=\"error\">" + html_escape(why) +
                           "</p><p>Start again from the command line: <code>reliant auth "
                           "login</code>.</p>");
}

// http://127.0.0.1:PORT/…, http://localhost:PORT/… or http://[::1]:PORT/… (RFC 8252 §7.3): the
// code goes to a program on the user's own machine and nowhere else.
bool loopback_redirect(std::string_view uri) {
  if (uri.size() > 512 || uri.find_first_of("#@\\\r\n\t ") != std::string_view::npos) return false;
  for (const std::string_view host : {"http://127.0.0.1:", "http://localhost:", "http://[::1]:"}) {
    if (!uri.starts_with(host)) continue;
    std::string_view rest = uri.substr(host.size());
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits == 0 || digits > 5) return false;
    rest = rest.substr(digits);
    return rest.empty() || rest.front() == '/';
  }
  return false;
}

struct FlowParams {
  std::string redirect_uri;
  std::string state;
  std::string code_challenge;
};

// The parameters the CLI put in the URL, carried through the form; an error names the bad one.
Result<FlowParams> flow_params(const std::map<std::string, std::string>& fields) {
  const auto get = [&](const char* name) {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  };
  FlowParams params{get("redirect_uri"), get("state"), get("code_challenge")};
  if (!loopback_redirect(params.redirect_uri)) {
    return fail(ErrorCode::invalid_argument,
                "redirect_uri must be an http:// address on this machine (127.0.0.1, localhost "
                "or [::1]) with a port");
  }
  if (params.state.empty() || params.state.size() > kStateBytesMax)
    return fail(ErrorCode::invalid_argument, "state must be 1 to 256 characters");
  const std::string method = get("code_challenge_method");
  if (!method.empty() && method != "S256")
    return fail(ErrorCode::invalid_argument, "code_challenge_method must be S256");
  if (params.code_challenge.size() != 43 || !base64url_decode(params.code_challenge))
    return fail(ErrorCode::invalid_argument, "code_challenge must be a base64url SHA-256 (S256)");
  return params;
}

HttpResponse sign_in_form(const FlowParams& params, const std::string& email,
                          const std::string& error, int status) {
  const auto hidden = [](const char* name, const std::string& value) {
    return "<input type=\"hidden\" name=\"" + std::string(name) + "\" value=\"" +
           html_escape(value) + "\">";
  };
  std::string body;
  if (!error.empty()) body += "<p class=\"error\">" + html_escape(error) + "</p>";
  body += "<p>Sign in to give the <code>reliant</code> command line on this computer a token.</p>";
  body += "<form method=\"post\" action=\"" + std::string(kLoginPath) + "\">";
  body += hidden("redirect_uri", params.redirect_uri) + hidden("state", params.state) +
          hidden("code_challenge", params.code_challenge) + hidden("code_challenge_method", "S256");
  body +=
      "<label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" "
      "autocomplete=\"username\" required value=\"" +
      html_escape(email) + "\">";
  body +=
      "<label for=\"password\">Password</label><input id=\"password\" name=\"password\" "
      "type=\"password\" autocomplete=\"current-password\" required>";
  body += "<button type=\"submit\">Sign in</button></form>";
  return html_response(status, "Sign in to Reliant", body);
}

std::string code_hash(std::string_view code) { return to_hex(Sha256::of(code)); }

}  // namespace

CliLogin::CliLogin(Env& env, PasswordHasher& passwords, SecretSource& secrets)
    : env_(env),
      passwords_(passwords),
      secrets_(secrets),
      ids_(env.executor, env.random.split(0x6c6f67696eULL)),
      per_account_(kAccountFailures, kFailureWindow),
      per_address_(kAddressFailures, kFailureWindow) {}

bool CliLogin::handles(const HttpRequest& request) {
  return request.path == kLoginPath || request.path == kExchangePath;
}

Task<HttpResponse> CliLogin::handle(HttpRequest request) {
  if (request.path == kLoginPath && request.method == "GET") {
    auto params = flow_params(request.query);
    if (!params) co_return bad_request_page(params.error().message);
    co_return sign_in_form(*params, "", "", 200);
  }
  if (request.path == kLoginPath && request.method == "POST") {
    Task<HttpResponse> signing_in = sign_in(std::move(request));
    co_return co_await signing_in;
  }
  if (request.path == kExchangePath && request.method == "POST") {
    Task<HttpResponse> exchanging = exchange(std::move(request));
    co_return co_await exchanging;
  }
  co_return error_response(
      {ErrorCode::not_found, "no route " + request.method + " " + request.path});
}

Task<Result<std::string>> CliLogin::check_password(std::string email, std::string password,
                                                   std::string client_key) {
  const std::string account_key = lower_case(email);
  const SteadyInstant started = env_.executor.steady_now();
  Duration account_wait{0}, address_wait{0};
  const bool account_ok = per_account_.allowed(account_key, started, &account_wait);
  const bool address_ok = per_address_.allowed(client_key, started, &address_wait);
  if (!account_ok || !address_ok) {
    const auto wait_minutes =
        std::chrono::duration_cast<minutes>(std::max(account_wait, address_wait)).count() + 1;
    co_return fail(ErrorCode::resource_exhausted,
                   "Too many failed sign-ins for this account or from this address: try again in " +
                       std::to_string(wait_minutes) + " minutes.");
  }
  // The attempt counts as failed from now on, before the slow hash check, so attempts that
  // arrive while this one is checked are refused without a check of their own: recorded
  // after the check, a hundred concurrent guesses all passed the limit of five.
  per_account_.failed(account_key, started);
  per_address_.failed(client_key, started);

  Task<Result<std::optional<PasswordRecord>>> looking_up =
      env_.store->transact_for([email](SqlTransaction& tx) { return find_password(tx, email); });
  Result<std::optional<PasswordRecord>> record = co_await looking_up;
  if (!record) {
    // Nothing was checked: the attempt is not held against the account or the client.
    per_account_.forgive(account_key, started);
    per_address_.forgive(client_key, started);
    co_return fail(ErrorCode::unavailable,
                   "The server cannot check sign-ins right now: try again.");
  }
  // Every attempt costs one hash check, so the answer's timing does not tell whether the email
  // has an account: without a password to check, a made-up one is checked instead.
  const bool has_password = *record && (*record)->password_hash && !password.empty();
  if (!has_password && stand_in_hash_.empty()) {
    Task<std::string> making = passwords_.hash("a stand-in that matches no account");
    stand_in_hash_ = co_await making;
  }
  Task<bool> verifying =
      passwords_.verify(password, has_password ? *(*record)->password_hash : stand_in_hash_);
  const bool matches = co_await verifying;
  // One message for an unknown email, a user without a password and a wrong password.
  if (!matches || !has_password)
    co_return fail(ErrorCode::unauthenticated, "Wrong email or password.");
  per_account_.succeeded(account_key);
  per_address_.forgive(client_key, started);  // only failures count per client
  co_return (*record)->user.id;
}

Task<HttpResponse> CliLogin::sign_in(HttpRequest request) {
  const auto fields = parse_form_urlencoded(request.body);
  auto params = flow_params(fields);
  if (!params) co_return bad_request_page(params.error().message);
  const auto field = [&](const char* name) {
    auto it = fields.find(name);
    return it == fields.end() ? std::string() : it->second;
  };
  const std::string email = field("email");
  Task<Result<std::string>> checking =
      check_password(email, field("password"), request.limit_key());
  Result<std::string> user_id = co_await checking;
  if (!user_id) {
    const ErrorCode code = user_id.error().code;
    co_return sign_in_form(*params, email, user_id.error().message,
                           code == ErrorCode::resource_exhausted ? 429
                           : code == ErrorCode::unavailable      ? 503
                                                                 : 401);
  }

  std::array<std::uint8_t, 32> secret{};
  secrets_.fill(secret.data(), secret.size());
  const std::string code =
      base64url_encode(std::string_view(reinterpret_cast<const char*>(secret.data()), 32));
  const std::int64_t now_ms = to_ms(env_.executor.now());
  LoginCode stored{code_hash(code),        *user_id, params->redirect_uri,
                   params->code_challenge, now_ms,   now_ms + kCodeLifetimeMs};
  TransactionBody insert = [stored](SqlTransaction& tx) { return insert_login_code(tx, stored); };
  Task<Result<void>> inserting = env_.store->transact(std::move(insert));
  Result<void> inserted = co_await inserting;
  if (!inserted) {
    co_return sign_in_form(*params, email, "The server cannot sign you in right now: try again.",
                           503);
  }
  const std::string& uri = params->redirect_uri;
  HttpResponse response =
      html_response(303, "Signed in", "<p>Signed in. Return to the command line.</p>");
  response.headers.emplace_back("Location", uri + (uri.find('?') == std::string::npos ? "?" : "&") +
                                                "code=" + code +
                                                "&state=" + url_encode(params->state));
  co_return response;
}

Task<HttpResponse> CliLogin::exchange(HttpRequest request) {
  auto body = parse_json_body(request);
  if (!body) co_return error_response(body.error());
  for (const char* name : {"code", "code_verifier", "redirect_uri"}) {
    if (!(*body)[name].is_string()) {
      co_return error_response(
          {ErrorCode::invalid_argument, "\"" + std::string(name) + "\" must be a string"});
    }
  }
  const std::string verifier = (*body)["code_verifier"];
  if (!valid_pkce_verifier(verifier)) {
    co_return error_response({ErrorCode::invalid_argument,
                              "\"code_verifier\" must be 43 to 128 characters of "
                              "[A-Za-z0-9-._~] (RFC 7636)"});
  }
  const Json& name_field = (*body)["token_name"];
  if (!name_field.is_null() && (!name_field.is_string() || name_field.get<std::string>().empty() ||
                                name_field.get<std::string>().size() > kPatNameBytesMax)) {
    co_return error_response(
        {ErrorCode::invalid_argument, "\"token_name\" must be a string of 1 to 100 characters"});
  }
  const std::string token_name = name_field.is_string() ? name_field.get<std::string>() : "cli";

  std::array<std::uint8_t, kPatRandomBytes> secret{};
  secrets_.fill(secret.data(), secret.size());
  const std::int64_t now_ms = to_ms(env_.executor.now());
  // The token, issued to the code's user, and that user's email.
  struct Traded {
    NewToken issued;
    std::string email;
  };
  auto trade = [issued = make_token(secret, ids_.next(), "", token_name, now_ms), now_ms,
                hash = code_hash((*body)["code"].get<std::string>()), verifier,
                redirect_uri = (*body)["redirect_uri"].get<std::string>()](
                   SqlTransaction& tx) -> Result<Traded> {
    auto code = redeem_login_code(tx, hash, now_ms);
    if (!code) return fail(code.error());
    if (code->redirect_uri != redirect_uri ||
        !constant_time_equal(pkce_challenge(verifier), code->code_challenge)) {
      return fail(ErrorCode::unauthenticated,
                  "the code verifier or redirect_uri does not match the sign-in");
    }
    auto user = find_user(tx, code->user_id);
    if (!user) return fail(user.error());
    if (!*user) return fail(ErrorCode::unauthenticated, "the user no longer exists");
    Traded out{issued, (*user)->email};
    out.issued.meta.user_id = code->user_id;
    if (auto inserted = insert_new_token(tx, out.issued); !inserted) return fail(inserted.error());
    return out;
  };
  Task<Result<Traded>> trading = env_.store->transact_for(std::move(trade));
  Result<Traded> traded = co_await trading;
  if (!traded) co_return error_response(traded.error());
  co_return json_response(201, {{"token", traded->issued.token},
                                {"token_id", traded->issued.meta.id},
                                {"user_id", traded->issued.meta.user_id},
                                {"email", traded->email}});
}

}  // namespace reliant::api
