// The state enums and the schema agree, on SQLite and on Postgres: every name in an enum's table
// can be written to its column and read back as the same value through the repository, and the
// column's CHECK refuses a name outside it. An enum value added without a migration, or a
// migration that renames a state, fails here instead of on a user's write.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "core/daemon_status.h"
#include "services/engine/engine_sql.h"
#include "services/storage/accounts.h"
#include "services/storage/chats.h"
#include "services/storage/daemons.h"
#include "services/storage/managed_daemons.h"
#include "services/storage/tool_requests.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

class StoredStates : public testing_store::MigratedBackendTest {
 protected:
  void SetUp() override {
    MigratedBackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(transact([dialect = store_->dialect()](SqlTransaction& tx) -> Result<void> {
                  if (auto ok = insert_user(tx, User{"u1", "u1@example.com", "", 1}); !ok)
                    return ok;
                  ChatRecord chat;
                  chat.id = "c1";
                  chat.user_id = "u1";
                  if (auto ok = insert_chat(tx, chat); !ok) return ok;
                  DaemonRecord daemon;
                  daemon.id = "d1";
                  daemon.user_id = "u1";
                  daemon.name = "laptop";
                  if (auto ok = record_daemon_connected(tx, daemon); !ok) return ok;
                  ToolRequestRecord request;
                  request.request_id = "r1";
                  request.user_id = "u1";
                  request.daemon_id = "d1";
                  request.tool_name = "bash";
                  auto inserted = store_tool_request(tx, request);
                  if (!inserted) return fail(inserted.error());
                  return engine::start_run(
                      tx, dialect, engine::NewRun{"run1", "q", "agent", nlohmann::json::object()},
                      1);
                }).has_value());
  }

  // Writes `name` into `column` of the row `id` of `table` with plain SQL.
  Result<void> write(const std::string& table, const std::string& key, const std::string& id,
                     const std::string& column, const std::string& name) {
    return transact([=](SqlTransaction& tx) -> Result<void> {
      auto changed = tx.execute(
          "UPDATE " + table + " SET " + column + " = $1 WHERE " + key + " = $2", {name, id});
      if (!changed) return fail(changed.error());
      if (*changed != 1) return fail(ErrorCode::not_found, "no row " + id + " in " + table);
      return {};
    });
  }

  // Every name of `names` is accepted and read back as its value by `read`; a name outside the
  // table is refused by the schema.
  template <typename Enum, std::size_t N>
  void expect_agreement(const EnumNames<Enum, N>& names, const std::string& table,
                        const std::string& key, const std::string& id, const std::string& column,
                        const std::function<Result<Enum>(SqlTransaction&)>& read) {
    for (const auto& entry : names) {
      const std::string name(entry.name);
      auto written = write(table, key, id, column, name);
      ASSERT_TRUE(written.has_value())
          << table << "." << column << " refuses '" << name << "': " << written.error().message;
      auto value = std::make_shared<std::optional<Enum>>();
      auto got = transact([&](SqlTransaction& tx) -> Result<void> {
        auto v = read(tx);
        if (!v) return fail(v.error());
        *value = *v;
        return {};
      });
      ASSERT_TRUE(got.has_value()) << got.error().message;
      EXPECT_EQ(**value, entry.value) << table << "." << column << " read '" << name << "' back";
    }
    EXPECT_FALSE(write(table, key, id, column, "no-such-state").has_value())
        << table << "." << column << " accepts a name no value has";
  }
};

TEST_P(StoredStates, ChatStatus) {
  expect_agreement<ChatStatus>(kChatStatusNames, "chats", "id", "c1", "status",
                               [](SqlTransaction& tx) -> Result<ChatStatus> {
                                 auto chat = find_chat(tx, "c1");
                                 if (!chat) return fail(chat.error());
                                 return (*chat)->status;
                               });
}

TEST_P(StoredStates, DaemonStatusAndType) {
  // `suspended` is not the daemon's own: it is read from its managed row (below).
  constexpr EnumNames<DaemonStatus, 3> kStoredInTheDaemonsRow{{
      {DaemonStatus::active, "active"},
      {DaemonStatus::idle, "idle"},
      {DaemonStatus::disconnected, "disconnected"},
  }};
  expect_agreement<DaemonStatus>(kStoredInTheDaemonsRow, "daemons", "id", "d1", "status",
                                 [](SqlTransaction& tx) -> Result<DaemonStatus> {
                                   auto daemon = find_daemon(tx, "d1");
                                   if (!daemon) return fail(daemon.error());
                                   return (*daemon)->status;
                                 });
  expect_agreement<DaemonType>(kDaemonTypeNames, "daemons", "id", "d1", "type",
                               [](SqlTransaction& tx) -> Result<DaemonType> {
                                 auto daemon = find_daemon(tx, "d1");
                                 if (!daemon) return fail(daemon.error());
                                 return (*daemon)->type;
                               });
}

TEST_P(StoredStates, ManagedDaemonStates) {
  ManagedDaemonRecord managed;
  managed.id = "m1";
  managed.user_id = "u1";
  managed.spec.name = "cloud-box";
  managed.spec.permissions = PermissionProfile::execution;
  ASSERT_TRUE(transact([managed](SqlTransaction& tx) {
                return insert_managed_daemon(tx, managed);
              }).has_value());
  auto read = [](SqlTransaction& tx) -> Result<ManagedDaemonRecord> {
    auto row = find_managed_daemon(tx, "m1");
    if (!row) return fail(row.error());
    return std::move(**row);
  };
  expect_agreement<DesiredState>(kDesiredStateNames, "managed_daemons", "id", "m1", "desired_state",
                                 [&](SqlTransaction& tx) -> Result<DesiredState> {
                                   auto row = read(tx);
                                   if (!row) return fail(row.error());
                                   return row->desired;
                                 });
  expect_agreement<ObservedState>(kObservedStateNames, "managed_daemons", "id", "m1",
                                  "observed_state",
                                  [&](SqlTransaction& tx) -> Result<ObservedState> {
                                    auto row = read(tx);
                                    if (!row) return fail(row.error());
                                    return row->observed;
                                  });
  // Observed suspended and without a stream: suspended, in the daemon's row as in its own.
  ASSERT_TRUE(write("managed_daemons", "id", "m1", "observed_state", "suspended").has_value());
  auto shown = std::make_shared<std::pair<DaemonStatus, DaemonStatus>>();
  ASSERT_TRUE(transact([&](SqlTransaction& tx) -> Result<void> {
                auto daemon = find_daemon(tx, "m1");
                if (!daemon) return fail(daemon.error());
                auto row = read(tx);
                if (!row) return fail(row.error());
                *shown = {(*daemon)->status, row->status};
                return {};
              }).has_value());
  EXPECT_EQ(shown->first, DaemonStatus::suspended);
  EXPECT_EQ(shown->second, DaemonStatus::suspended);
}

TEST_P(StoredStates, ToolRequestStatus) {
  expect_agreement<ToolRequestStatus>(kToolRequestStatusNames, "tool_requests", "request_id", "r1",
                                      "status",
                                      [](SqlTransaction& tx) -> Result<ToolRequestStatus> {
                                        auto request = find_tool_request(tx, "r1");
                                        if (!request) return fail(request.error());
                                        return (*request)->status;
                                      });
}

TEST_P(StoredStates, RunStatus) {
  expect_agreement<engine::RunStatus>(engine::kRunStatusNames, "workflow_runs", "id", "run1",
                                      "status",
                                      [](SqlTransaction& tx) -> Result<engine::RunStatus> {
                                        auto run = engine::get_run(tx, "run1");
                                        if (!run) return fail(run.error());
                                        return run->status;
                                      });
}

INSTANTIATE_TEST_SUITE_P(Backends, StoredStates, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
