// The plans the Postgres store's sessions make (postgres_store.cc, connect). A prepared statement
// keeps its plan for the connection's life, made again only when its tables are analyzed, so a
// table analyzed while it was tiny (a new deployment's first minute) must still be read through
// its indexes: a plan that scans it whole would stay while the table grows.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "store/store_backend.h"

namespace reliant {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PostgresPlans : public testing_store::MigratedBackendTest {
 protected:
  // What EXPLAIN says of `sql` on the store's own session, one plan line after another.
  std::string plan_of(const std::string& sql, std::vector<SqlValue> params) {
    std::string plan;
    auto explained = transact([&](SqlTransaction& tx) -> Result<void> {
      auto rows = tx.query("EXPLAIN " + sql, std::move(params));
      if (!rows) return fail(rows.error());
      for (const auto& row : rows->rows) plan += std::get<std::string>(row.at(0)) + "\n";
      return {};
    });
    EXPECT_TRUE(explained.has_value()) << explained.error().message;
    return plan;
  }
};

TEST_P(PostgresPlans, TablesAnalyzedWhileTinyAreStillReadThroughTheirIndexes) {
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                if (auto ok = tx.execute(
                        "INSERT INTO workflow_runs (id, namespace, workflow_name, status, "
                        "input_json, created_at_ms, updated_at_ms) VALUES ('r', 'reliant', 'w', "
                        "'running', '{}', 1, 1)",
                        {});
                    !ok)
                  return fail(ok.error());
                for (int seq = 1; seq <= 4; ++seq) {
                  if (auto ok = tx.execute(
                          "INSERT INTO engine_tasks (id, queue, kind, run_id, event_seq, status, "
                          "visible_at_ms, created_at_ms, updated_at_ms) VALUES ($1, 'reliant', "
                          "'activity', 'r', $2, 'ready', 1, 1, 1)",
                          {"r:act:" + std::to_string(seq), std::int64_t{seq}});
                      !ok)
                    return fail(ok.error());
                }
                // As autovacuum would, a minute into a new deployment: both tables fit one page.
                if (auto ok = tx.execute("ANALYZE workflow_runs, engine_tasks", {}); !ok)
                  return fail(ok.error());
                return {};
              }).has_value());

  // A step's retirement of its task, and the run's lock: Postgres's own choice for a one-page
  // table is to scan it.
  const std::string retire =
      plan_of("DELETE FROM engine_tasks WHERE id = $1", {std::string("r:act:2")});
  EXPECT_THAT(retire, HasSubstr("Index Scan using engine_tasks_pkey"));
  EXPECT_THAT(retire, Not(HasSubstr("Seq Scan")));
  // Conditional on the lease, it may read the leased tasks' index instead (as many entries as
  // there is work in flight), never the table.
  const std::string retire_held =
      plan_of("DELETE FROM engine_tasks WHERE id = $1 AND status = 'leased' AND attempt = $2",
              {std::string("r:act:2"), std::int64_t{1}});
  EXPECT_THAT(retire_held, HasSubstr("Index Scan using engine_tasks_"));
  EXPECT_THAT(retire_held, Not(HasSubstr("Seq Scan")));
  const std::string lock =
      plan_of("SELECT status FROM workflow_runs WHERE id = $1 FOR UPDATE", {std::string("r")});
  EXPECT_THAT(lock, HasSubstr("Index Scan using workflow_runs_pkey"));
  EXPECT_THAT(lock, Not(HasSubstr("Seq Scan")));

  // A gateway's lease sweep (leased_daemons) reads the leased daemons, not every daemon.
  const std::string sweep = plan_of(
      "SELECT id FROM daemons WHERE status <> 'disconnected' AND lease_until_ms IS NOT NULL AND "
      "connection_id IS NOT NULL AND lease_until_ms < $1 ORDER BY id",
      {std::int64_t{100}});
  EXPECT_THAT(sweep, HasSubstr("daemons_leased"));

  // Where no index serves, the table is still read whole.
  std::int64_t unfailed = 0;
  ASSERT_TRUE(transact([&](SqlTransaction& tx) -> Result<void> {
                auto rows = tx.query(
                    "SELECT COUNT(*) AS tasks FROM engine_tasks WHERE last_error IS NULL", {});
                if (!rows) return fail(rows.error());
                unfailed = std::get<std::int64_t>(rows->rows.at(0).at(0));
                return {};
              }).has_value());
  EXPECT_EQ(unfailed, 4);
}

INSTANTIATE_TEST_SUITE_P(Postgres, PostgresPlans, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
