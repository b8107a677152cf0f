// The CLI's side of signing in (services/api/cli_login.h has the server's): a loopback listener
// on 127.0.0.1, the browser opened at the server's sign-in page (or the URL printed when no
// browser can be opened), the one-time code trade with PKCE; and making a further token with a
// token already held (how `daemon register` and `daemon start` turn a login into a daemon's
// own credentials).
#pragma once

#include <chrono>
#include <string>

#include "base/result.h"

namespace reliant {

struct IssuedToken {
  std::string token;
  std::string token_id;
  std::string user_id;
  std::string email;
};

struct BrowserLoginOptions {
  std::string server;              // http://HOST:PORT of the api server
  std::string token_name = "cli";  // how the new token is listed on the server
  bool open_browser = true;        // false: only print the URL
  std::chrono::seconds timeout{300};
};

// Fails with timeout when nobody signs in in time, unauthenticated when the sign-in was refused
// or the code trade failed, unavailable when the server cannot be reached.
Result<IssuedToken> browser_login(const BrowserLoginOptions& options);

// POST /api/v1/tokens with `token`: a new token of the same user named `name`.
Result<IssuedToken> create_token_with(const std::string& server, const std::string& token,
                                      const std::string& name);

// Who `token` belongs to on `server` (GET /api/v1/me): the user id.
Result<std::string> whoami(const std::string& server, const std::string& token);

}  // namespace reliant
