// BrowserSessions: how the web app signs in and stays signed in. A browser holds a session
// cookie — HttpOnly (the page's script never sees it), SameSite=Strict, Secure over TLS — that
// carries a personal access token named "browser session" (7 days; listed and revocable with
// the user's other tokens). State-changing requests authenticated by the cookie must also send
// the header X-CSRF-Token, derived from the session and handed to the page by
// GET /api/v1/auth/session: a cross-site form cannot read it, so it cannot forge a POST.
//   POST   /api/v1/auth/session        {email, password}: signs in (the CLI sign-in's checks)
//   POST   /api/v1/auth/session/local  {code}: the monolith's one-time link (LocalSignIn)
//   GET    /api/v1/auth/session        {user_id, email, csrf_token}, or 401
//   DELETE /api/v1/auth/session        signs out: the token is revoked, the cookie cleared
// The one-time link a monolith prints carries its code in the URL's fragment, which browsers do
// not send to the server: the page posts it, and it works once, for ten minutes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "runtime/env.h"
#include "runtime/http.h"
#include "runtime/ids.h"
#include "runtime/secret_source.h"
#include "services/api/cli_login.h"

namespace reliant::api {

inline constexpr std::string_view kSessionCookie = "reliant_session";
inline constexpr std::string_view kCsrfHeader = "x-csrf-token";

// The session cookie's name for the server a request reached: kSessionCookie + "_" + the port of
// its Host header (the port the browser used), or kSessionCookie alone when Host names none.
// Browsers keep cookies per host, not per port (RFC 6265 §8.5): under one name, two servers on
// one host — two monoliths — overwrote each other's session and each read the other's. A cookie
// still reaches every port of its host; a server reads only its own.
std::string session_cookie_name(const HttpRequest& request);
// The session token in the request's Cookie header (the cookie of session_cookie_name()), or "".
std::string session_cookie(const HttpRequest& request);
// The CSRF token that goes with a session token.
std::string csrf_token_for(std::string_view session_token);
// Whether a request authenticated by the cookie may go on: a safe method (GET, HEAD, OPTIONS),
// or one carrying the session's X-CSRF-Token (compared in constant time).
bool csrf_ok(const HttpRequest& request, std::string_view session_token);

// The monolith's one-time sign-in codes for its local user: one outstanding at a time (a new one
// replaces it), kept hashed, valid once and for ten minutes.
class LocalSignIn {
 public:
  explicit LocalSignIn(std::string user_id) : user_id_(std::move(user_id)) {}
  // A fresh code (base64url), replacing any earlier one.
  std::string issue(SecretSource& secrets, SteadyInstant now);
  // The user the code signs in, once; nullopt for a wrong, used or expired code.
  std::optional<std::string> redeem(std::string_view code, SteadyInstant now);

  static constexpr Duration kLifetime = minutes(10);

 private:
  std::string user_id_;
  std::string code_hash_;  // empty: none outstanding
  SteadyInstant expires_at_{};
};

struct BrowserSessionOptions {
  bool secure_cookie = true;  // false only when the api serves plain HTTP
  Duration lifetime = hours(24 * 7);
};

class BrowserSessions {
 public:
  // `passwords` null: no password sign-in (the monolith's local user has none); `local` null:
  // no one-time links. Both must outlive this.
  BrowserSessions(Env& env, SecretSource& secrets, CliLogin* passwords, LocalSignIn* local,
                  BrowserSessionOptions options);

  static bool handles(const HttpRequest& request);
  Task<HttpResponse> handle(HttpRequest request);

 private:
  Task<HttpResponse> sign_in(const HttpRequest& request);
  Task<HttpResponse> sign_in_locally(const HttpRequest& request);
  Task<HttpResponse> who(const HttpRequest& request);
  Task<HttpResponse> sign_out(const HttpRequest& request);
  // A new session for `user_id`: its token stored, the response setting the cookie `name`.
  Task<HttpResponse> start_session(std::string user_id, std::string name);
  std::string cookie(const std::string& name, std::string_view token, Duration age_max) const;

  Env& env_;
  SecretSource& secrets_;
  CliLogin* passwords_;
  LocalSignIn* local_;
  BrowserSessionOptions options_;
  IdGenerator ids_;
};

}  // namespace reliant::api
