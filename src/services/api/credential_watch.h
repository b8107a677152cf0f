// CredentialWatches: whether the credentials that opened long-lived connections (update streams)
// still hold. A revoked token ends its streams at once when the revocation is announced on the
// bus (auth.revoked.<user>), and within `recheck` when the announcement is lost — the watches ask
// the store then; a token or JWT that expires ends its streams when it expires.
//
// One per server: one bus subscription and one store transaction per `recheck` however many
// streams are open (10,000 streams each with their own were 10,000 subscriptions and 1,000
// transactions a second).
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

class CredentialWatch;

class CredentialWatches {
 public:
  // `env` needs a store and a bus once something is watched.
  CredentialWatches(Env& env, Duration recheck);
  ~CredentialWatches();
  CredentialWatches(const CredentialWatches&) = delete;
  CredentialWatches& operator=(const CredentialWatches&) = delete;

  // Watches `credential` until the returned watch is destroyed; `on_ended` runs once, on the
  // executor, when the credential is revoked or expires. A watch may outlive this object: it
  // then simply stops being told anything. Fails only when the bus refuses the subscription.
  Result<std::unique_ptr<CredentialWatch>> watch(Credential credential,
                                                 std::function<void()> on_ended);

  std::size_t watched() const;
  std::uint64_t rechecks() const;  // store transactions made so far

  struct Registry;  // shared with the watches, which may outlive this object

 private:
  std::shared_ptr<Registry> registry_;
};

// One connection's credential.
class CredentialWatch {
 public:
  ~CredentialWatch();
  CredentialWatch(const CredentialWatch&) = delete;
  CredentialWatch& operator=(const CredentialWatch&) = delete;

  bool ended() const { return !why_.empty(); }
  // "revoked" or "expired"; empty while the credential holds.
  const std::string& why() const { return why_; }

 private:
  friend class CredentialWatches;
  friend struct CredentialWatches::Registry;
  CredentialWatch(Executor& executor, Credential credential, std::function<void()> on_ended);
  void end(std::string why);
  Task<void> expire_at(std::int64_t expires_at_ms);

  Credential credential_;
  std::function<void()> on_ended_;
  std::string why_;
  std::weak_ptr<CredentialWatches::Registry> registry_;
  std::uint64_t id_ = 0;  // in the registry
  Scope scope_;           // last: destroyed first
};

}  // namespace reliant::api
