// Fresh databases per test: unique SQLite files, or CREATE DATABASE on the fixture's Postgres.
#include "store/store_backend.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "adapters/asio/run_blocking.h"
#include "adapters/postgres/postgres_store.h"
#include "adapters/sqlite/sqlite_store.h"
#include "services/storage/accounts.h"
#include "services/storage/migrator.h"
#include "unit/support/temp_dir.h"

namespace reliant::testing_store {
namespace {

std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

class SqliteBackend final : public Backend {
 public:
  std::unique_ptr<Store> open(Executor& executor) override {
    auto store = SqliteStore::open(executor, (dir_.path / "reliant.db").string());
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }
  std::string name() const override { return "sqlite"; }

 private:
  testing::TempDir dir_{"reliant-store-test"};  // the database with its -wal and -shm
};

// Runs one statement on the fixture's Postgres as its administrator; false when it failed.
bool run_as_admin(const std::string& admin_url, const std::string& sql) {
  PGconn* admin = PQconnectdb(admin_url.c_str());
  bool ran = false;
  if (PQstatus(admin) == CONNECTION_OK) {
    PGresult* result = PQexec(admin, sql.c_str());
    ran = PQresultStatus(result) == PGRES_COMMAND_OK;
    PQclear(result);
  }
  PQfinish(admin);
  return ran;
}

class PostgresBackend final : public Backend {
 public:
  explicit PostgresBackend(std::string admin_url)
      : admin_url_(std::move(admin_url)), database_("t_" + unique_suffix()) {
    EXPECT_TRUE(run_as_admin(admin_url_, "CREATE DATABASE " + database_)) << database_;
    const auto slash = admin_url_.rfind('/');
    url_ = admin_url_.substr(0, slash + 1) + database_;
  }
  ~PostgresBackend() override {
    run_as_admin(admin_url_, "DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
  }
  std::unique_ptr<Store> open(Executor& executor) override {
    auto store = PostgresStore::open(executor, url_);
    EXPECT_TRUE(store.has_value()) << store.error().message;
    return store ? std::move(*store) : nullptr;
  }
  std::string name() const override { return "postgres"; }

 private:
  std::string admin_url_;
  std::string database_;
  std::string url_;
};

}  // namespace

std::unique_ptr<Backend> make_backend(const std::string& kind) {
  if (kind == "sqlite") return std::make_unique<SqliteBackend>();
  const char* url_file = std::getenv("RELIANT_PG_URL_FILE");
  if (url_file == nullptr) {
    ADD_FAILURE()
        << "RELIANT_PG_URL_FILE is not set: run through ctest, whose fixture starts Postgres "
           "(tools/pg_fixture.sh)";
    return nullptr;
  }
  std::ifstream in(url_file);
  std::string url;
  std::getline(in, url);
  if (url.empty()) {
    ADD_FAILURE() << "no Postgres URL in " << url_file;
    return nullptr;
  }
  return std::make_unique<PostgresBackend>(url);
}

void BackendTest::SetUp() {
  backend_ = make_backend(GetParam());
  ASSERT_NE(backend_, nullptr);
  store_ = backend_->open(executor_);
  ASSERT_NE(store_, nullptr);
}

Result<void> BackendTest::transact(TransactionBody body) {
  return run_blocking(executor_, store_->transact(std::move(body)));
}

void BackendTest::migrate() {
  auto applied = run_blocking(executor_, migrate_up(*store_, executor_.now()));
  ASSERT_TRUE(applied.has_value()) << applied.error().message;
}

void MigratedBackendTest::SetUp() {
  BackendTest::SetUp();
  if (HasFatalFailure()) return;
  migrate();
}

Result<void> MigratedBackendTest::add_users(std::initializer_list<std::string> ids) {
  std::vector<std::string> users(ids);
  return transact([users](SqlTransaction& tx) -> Result<void> {
    for (const auto& id : users) {
      if (auto ok = insert_user(tx, User{id, id + "@example.com", "", 1}); !ok) return ok;
    }
    return {};
  });
}

}  // namespace reliant::testing_store
