// PAT authentication and the daemon listing, as store transactions.
#include "services/api/api_support.h"

#include <memory>

#include "services/storage/accounts.h"

namespace reliant::api {

std::string bearer_token(std::string_view authorization) {
  constexpr std::string_view bearer = "Bearer ";
  if (!authorization.starts_with(bearer)) return {};
  return std::string(authorization.substr(bearer.size()));
}

Task<Result<std::string>> authenticate_pat(Env& env, std::string token) {
  if (token.empty()) {
    co_return fail(ErrorCode::unauthenticated,
                   "missing credentials: send 'Authorization: Bearer <token>'");
  }
  auto user = std::make_shared<std::string>();
  TransactionBody body = [user, token,
                          now_ms = to_ms(env.executor.now())](SqlTransaction& tx) -> Result<void> {
    auto who = reliant::authenticate_token(tx, token, now_ms);
    if (!who) return fail(who.error());
    *user = who->user.id;
    return {};
  };
  Task<Result<void>> checking = env.store->transact(std::move(body));
  Result<void> checked = co_await checking;
  if (!checked) co_return fail(checked.error());
  co_return *user;
}

Task<Result<std::vector<DaemonRecord>>> load_daemons(Env& env, std::string user_id) {
  auto daemons = std::make_shared<std::vector<DaemonRecord>>();
  TransactionBody body = [daemons, user_id](SqlTransaction& tx) -> Result<void> {
    auto rows = reliant::list_daemons(tx, user_id);
    if (!rows) return fail(rows.error());
    *daemons = std::move(*rows);
    return {};
  };
  Task<Result<void>> reading = env.store->transact(std::move(body));
  Result<void> read = co_await reading;
  if (!read) co_return fail(read.error());
  co_return std::move(*daemons);
}

}  // namespace reliant::api
