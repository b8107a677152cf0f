// CredentialWatch: an announcement subscription and a periodic re-check of one credential.
#include "services/api/credential_watch.h"

#include <algorithm>

#include "core/tool_subjects.h"
#include "runtime/sleep.h"
#include "services/storage/accounts.h"

namespace reliant::api {

Result<std::unique_ptr<CredentialWatch>> CredentialWatch::open(Env& env, Credential credential,
                                                               Duration recheck,
                                                               std::function<void()> on_ended) {
  RELIANT_ASSERT(env.store != nullptr && env.bus != nullptr);
  RELIANT_ASSERT(recheck > Duration::zero());
  std::unique_ptr<CredentialWatch> watch(
      new CredentialWatch(env, std::move(credential), recheck, std::move(on_ended)));
  if (!watch->credential_.token_id.empty()) {
    auto subscription = env.bus->subscribe(
        subjects::credential_revoked(watch->credential_.user_id),
        [raw = watch.get()](const BusMessage& message) {
          if (message.data == raw->credential_.token_id) raw->end("revoked");
        });
    if (!subscription) return fail(subscription.error());
    watch->subscription_ = std::move(*subscription);
  }
  watch->scope_.spawn(watch->recheck_loop());
  return watch;
}

CredentialWatch::CredentialWatch(Env& env, Credential credential, Duration recheck,
                                 std::function<void()> on_ended)
    : env_(env),
      credential_(std::move(credential)),
      recheck_(recheck),
      on_ended_(std::move(on_ended)),
      scope_(env.executor) {}

CredentialWatch::~CredentialWatch() { subscription_.reset(); }

void CredentialWatch::end(std::string why) {
  if (ended()) return;
  why_ = std::move(why);
  subscription_.reset();
  if (on_ended_) on_ended_();
}

Task<void> CredentialWatch::recheck_loop() {
  while (!ended()) {
    Duration wait = recheck_;
    if (credential_.expires_at_ms) {
      const Duration left = milliseconds(*credential_.expires_at_ms) -
                            milliseconds(to_ms(env_.executor.now()));
      wait = std::clamp<Duration>(left, milliseconds(1), recheck_);
    }
    Sleep pausing = sleep(env_.executor, wait);
    co_await pausing;
    const std::int64_t now_ms = to_ms(env_.executor.now());
    if (credential_.expires_at_ms && *credential_.expires_at_ms <= now_ms) {
      end("expired");
      co_return;
    }
    if (credential_.token_id.empty()) continue;  // a JWT: only its expiry ends it
    Task<Result<bool>> checking =
        env_.store->transact_for([token_id = credential_.token_id, now_ms](SqlTransaction& tx) {
          return token_active(tx, token_id, now_ms);
        });
    Result<bool> active = co_await checking;
    // The store unreachable: the credential is given the benefit of the doubt until it answers.
    if (active && !*active) end("revoked");
  }
}

}  // namespace reliant::api
