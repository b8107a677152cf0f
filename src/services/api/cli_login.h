// CliLogin: how a command-line client gets a token through the browser (`reliant auth login`,
// `reliant daemon register`) — OAuth 2.0's loopback flow for native apps (RFC 8252) with PKCE
// (RFC 7636). The CLI listens on 127.0.0.1, opens the browser at /cli/login with its redirect
// URI, a state and a code challenge; the user signs in with email and password; the browser is
// sent back to the CLI with a one-time code; the CLI trades the code and its verifier at
// /api/v1/auth/cli/token for a personal access token. Codes are stored hashed, live five
// minutes and work once, and redirects go to loopback addresses only, so a code never leaves
// the user's machine. Failed sign-ins are limited per account and per client address.
#pragma once

#include "core/attempt_limiter.h"
#include "runtime/env.h"
#include "runtime/http.h"
#include "runtime/ids.h"
#include "runtime/password_hasher.h"
#include "runtime/secret_source.h"

namespace reliant::api {

class CliLogin {
 public:
  CliLogin(Env& env, PasswordHasher& passwords, SecretSource& secrets);

  // Whether `request` belongs to this flow (served without a bearer token).
  static bool handles(const HttpRequest& request);
  Task<HttpResponse> handle(HttpRequest request);

  // An email and password, checked as the sign-in form checks them — failures limited per
  // account and per client (`client_key`: HttpRequest::limit_key()), one slow hash check whatever
  // the email, so the timing does not tell whether it has an account. The user's id; or
  // unauthenticated (one message for an unknown email, no password and a wrong one),
  // resource_exhausted (too many failures: the message says how long to wait) or unavailable (the
  // store).
  Task<Result<std::string>> check_password(std::string email, std::string password,
                                           std::string client_key);

 private:
  Task<HttpResponse> sign_in(HttpRequest request);
  Task<HttpResponse> exchange(HttpRequest request);

  Env& env_;
  PasswordHasher& passwords_;
  SecretSource& secrets_;
  IdGenerator ids_;
  // Failed sign-ins per account and per client address (this replica's view).
  AttemptLimiter per_account_;
  AttemptLimiter per_address_;
  std::string stand_in_hash_;  // checked when there is no password to check (made on first use)
};

}  // namespace reliant::api
