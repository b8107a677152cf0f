// CredentialWatches: one revocation subscription and one periodic store check for every watched
// credential of a server; each watch keeps only a timer for its expiry.
#include "services/api/credential_watch.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <vector>

#include "core/tool_subjects.h"
#include "runtime/sleep.h"
#include "services/storage/accounts.h"

namespace reliant::api {

struct CredentialWatches::Registry {
  Registry(Env& env, Duration recheck) : env(env), recheck(recheck), scope(env.executor) {}

  // The watches of `token_id` end with `why`. Looked up one at a time: a watch's on_ended may
  // destroy another watch.
  void end_token(const std::string& token_id, const std::string& why) {
    std::vector<std::uint64_t> ids;
    for (const auto& [id, watch] : watches) {
      if (watch->credential_.token_id == token_id) ids.push_back(id);
    }
    for (std::uint64_t id : ids) {
      if (auto found = watches.find(id); found != watches.end()) found->second->end(why);
    }
  }

  // Every `recheck` while tokens are watched: which of them no longer authenticate, in one
  // transaction for all.
  Task<void> recheck_loop() {
    while (!watches.empty()) {
      Sleep pausing = sleep(env.executor, recheck);
      co_await pausing;
      std::set<std::string> tokens;
      for (const auto& [id, watch] : watches) {
        if (!watch->ended() && !watch->credential_.token_id.empty()) {
          tokens.insert(watch->credential_.token_id);
        }
      }
      if (tokens.empty()) continue;
      const std::int64_t now_ms = to_ms(env.executor.now());
      ++rechecks;
      Task<Result<std::vector<std::string>>> checking = env.store->transact_for(
          [tokens, now_ms](SqlTransaction& tx) -> Result<std::vector<std::string>> {
            auto active = active_tokens(tx, tokens, now_ms);  // on Postgres, one round trip
            if (!active) return fail(active.error());
            std::vector<std::string> inactive;
            std::set_difference(tokens.begin(), tokens.end(), active->begin(), active->end(),
                                std::back_inserter(inactive));
            return inactive;
          });
      Result<std::vector<std::string>> inactive = co_await checking;
      // The store unreachable: the credentials are given the benefit of the doubt until it
      // answers.
      if (!inactive) continue;
      for (const auto& token_id : *inactive) end_token(token_id, "revoked");
    }
  }

  Env& env;
  Duration recheck;
  std::map<std::uint64_t, CredentialWatch*> watches;  // by id: deterministic order
  std::uint64_t next_id = 1;
  std::uint64_t rechecks = 0;
  SubscriptionPtr revoked;  // kCredentialRevokedAll, from the first watched token on
  // Runs recheck_loop only, so it holds a task exactly while the loop runs. Last: destroyed first.
  Scope scope;
};

CredentialWatches::CredentialWatches(Env& env, Duration recheck)
    : registry_(std::make_shared<Registry>(env, recheck)) {
  RELIANT_ASSERT(recheck > Duration::zero());
}

// The watches that outlive this object keep only their expiry (their weak reference expires).
CredentialWatches::~CredentialWatches() = default;

std::size_t CredentialWatches::watched() const { return registry_->watches.size(); }
std::uint64_t CredentialWatches::rechecks() const { return registry_->rechecks; }

Result<std::unique_ptr<CredentialWatch>> CredentialWatches::watch(Credential credential,
                                                                  std::function<void()> on_ended) {
  Registry& r = *registry_;
  std::unique_ptr<CredentialWatch> watch(
      new CredentialWatch(r.env.executor, std::move(credential), std::move(on_ended)));
  if (const auto& expiry = watch->credential_.expires_at_ms) {
    watch->scope_.spawn(watch->expire_at(*expiry));
  }
  if (watch->credential_.token_id.empty()) return watch;  // a JWT: only its expiry ends it

  RELIANT_ASSERT(r.env.store != nullptr && r.env.bus != nullptr);
  if (!r.revoked) {
    auto subscription = r.env.bus->subscribe(subjects::kCredentialRevokedAll,
                                             [raw = registry_.get()](const BusMessage& message) {
                                               raw->end_token(message.data, "revoked");
                                             });
    if (!subscription) return fail(subscription.error());
    r.revoked = std::move(*subscription);
  }
  watch->registry_ = registry_;
  watch->id_ = r.next_id++;
  r.watches.emplace(watch->id_, watch.get());
  if (r.scope.live_tasks() == 0) r.scope.spawn(r.recheck_loop());  // it ends when idle
  return watch;
}

CredentialWatch::CredentialWatch(Executor& executor, Credential credential,
                                 std::function<void()> on_ended)
    : credential_(std::move(credential)), on_ended_(std::move(on_ended)), scope_(executor) {}

CredentialWatch::~CredentialWatch() {
  if (auto registry = registry_.lock()) registry->watches.erase(id_);
}

void CredentialWatch::end(std::string why) {
  if (ended()) return;
  why_ = std::move(why);
  if (on_ended_) on_ended_();
}

Task<void> CredentialWatch::expire_at(std::int64_t expires_at_ms) {
  Executor& executor = scope_.executor();
  const Duration left = milliseconds(expires_at_ms) - milliseconds(to_ms(executor.now()));
  Sleep pausing = sleep(executor, std::max<Duration>(left, Duration::zero()));
  co_await pausing;
  end("expired");
}

}  // namespace reliant::api
