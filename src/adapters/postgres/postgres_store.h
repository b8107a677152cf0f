// PostgresStore: the Store port on Postgres through libpq — a small pool of connections, each
// owned by one blocking thread. The distributed deployment's store. libpq's pipeline mode (which
// libpqxx 6.4 lacks) saves a transaction the round trips it does not need: its BEGIN goes with
// its first statement, its COMMIT with its last, and independent statements go together.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "adapters/blocking/blocking_pool.h"
#include "runtime/executor.h"
#include "runtime/store.h"

namespace reliant {

struct PostgresOptions {
  std::size_t pool_size = 4;
};

class PostgresStore final : public Store {
 public:
  // Connects every pool connection before returning, so a wrong URL or an unreachable server
  // fails here with a precise message (`unavailable`, or `invalid_argument` for a malformed URL).
  // Messages never contain the URL's password.
  static Result<std::unique_ptr<PostgresStore>> open(Executor& executor, const std::string& url,
                                                     const PostgresOptions& options = {});
  ~PostgresStore() override;

  SqlDialect dialect() const override { return SqlDialect::postgres; }
  Task<Result<void>> transact(TransactionBody body) override;
  std::size_t queue_depth() const { return pool_->queued(); }

 private:
  struct Connections;  // libpq types stay out of this header
  PostgresStore(Executor& executor, std::string url, std::unique_ptr<Connections> connections);
  Result<void> run(std::size_t index, const TransactionBody& body);

  Executor& executor_;
  std::string url_;
  std::unique_ptr<Connections> connections_;  // connection i belongs to pool thread i
  std::unique_ptr<BlockingPool> pool_;
};

// "postgres://user:secret@host/db" → "postgres://user:***@host/db", for messages and logs.
std::string redact_url(const std::string& url);

}  // namespace reliant
