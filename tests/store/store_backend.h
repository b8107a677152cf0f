// Test backends for the Store conformance suite: a fresh SQLite file, or a fresh database on the
// Postgres started by tools/pg_fixture.sh (its URL file named by RELIANT_PG_URL_FILE).
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "adapters/asio/asio_executor.h"
#include "runtime/store.h"

namespace reliant::testing_store {

// Owns one empty database for one test, and opens stores on it.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::unique_ptr<Store> open(Executor& executor) = 0;
  virtual std::string name() const = 0;
};

// "sqlite" or "postgres". Postgres needs RELIANT_PG_URL_FILE; without it the test fails,
// loudly, rather than silently testing less.
std::unique_ptr<Backend> make_backend(const std::string& kind);

// A test on a fresh database of the backend its parameter names ("sqlite" or "postgres"), with
// a store opened on it. Suites instantiate it with ::testing::Values("sqlite", "postgres").
class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  Result<void> transact(TransactionBody body);
  // Applies the schema's migrations.
  void migrate();

  AsioExecutor executor_;
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<Store> store_;
};

// The same, with the schema's migrations applied.
class MigratedBackendTest : public BackendTest {
 protected:
  void SetUp() override;
  // Adds users `ids`, each with the email ID@example.com, in one transaction.
  Result<void> add_users(std::initializer_list<std::string> ids);
};

}  // namespace reliant::testing_store
