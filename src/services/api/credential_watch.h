// CredentialWatch: whether the credential that opened a long-lived connection (an update stream)
// still holds. A revoked token ends the stream at once when the revocation is announced on the
// bus (auth.revoked.<user>), and within `recheck` when the announcement is lost — the watch asks
// the store then; a token or JWT that expires ends it when it expires.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "runtime/env.h"
#include "runtime/scope.h"

namespace reliant::api {

// Who a request authenticated as, and with what.
struct Credential {
  std::string user_id;
  std::string token_id;                       // a personal access token's id; empty for a JWT
  std::optional<std::int64_t> expires_at_ms;  // none: it does not expire
};

class CredentialWatch {
 public:
  // `env` needs a store and a bus. `on_ended` runs once, on the executor, when the credential is
  // revoked or expires.
  static Result<std::unique_ptr<CredentialWatch>> open(Env& env, Credential credential,
                                                       Duration recheck,
                                                       std::function<void()> on_ended);
  ~CredentialWatch();
  CredentialWatch(const CredentialWatch&) = delete;
  CredentialWatch& operator=(const CredentialWatch&) = delete;

  bool ended() const { return !why_.empty(); }
  // "revoked" or "expired"; empty while the credential holds.
  const std::string& why() const { return why_; }

 private:
  CredentialWatch(Env& env, Credential credential, Duration recheck,
                  std::function<void()> on_ended);
  void end(std::string why);
  Task<void> recheck_loop();

  Env& env_;
  Credential credential_;
  Duration recheck_;
  std::function<void()> on_ended_;
  std::string why_;
  SubscriptionPtr subscription_;
  Scope scope_;  // last: destroyed first
};

}  // namespace reliant::api
