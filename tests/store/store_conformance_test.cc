// The Store conformance suite: the same tests on SQLite and on a real Postgres — value types,
// transactions, error mapping, concurrency, migrations, and the accounts repository.
#include <gtest/gtest.h>

#include <array>
#include <limits>
#include <memory>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "core/personal_access_token.h"
#include "runtime/scope.h"
#include "services/storage/accounts.h"
#include "services/storage/chats.h"
#include "services/storage/daemons.h"
#include "services/storage/group_commit_store.h"
#include "services/storage/migrator.h"
#include "services/storage/schema.h"
#include "services/storage/sql_row.h"
#include "services/storage/tool_requests.h"
#include "services/updates/user_events.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

using testing_store::Backend;

class StoreConformance : public testing_store::BackendTest {
 protected:
  Result<SqlRows> query(const std::string& sql, std::vector<SqlValue> params = {}) {
    auto rows = std::make_shared<SqlRows>();
    auto done = transact([rows, sql, params](SqlTransaction& tx) -> Result<void> {
      auto r = tx.query(sql, params);
      if (!r) return fail(r.error());
      *rows = std::move(*r);
      return {};
    });
    if (!done) return fail(done.error());
    return *rows;
  }

  // A pending bash request of user u-t for `daemon_id`.
  static ToolRequestRecord tool_request(const std::string& request_id,
                                        const std::string& daemon_id) {
    ToolRequestRecord r;
    r.request_id = request_id;
    r.user_id = "u-t";
    r.daemon_id = daemon_id;
    r.tool_name = "bash";
    r.input_json = R"({"command":"true"})";
    r.reply_subject = "tools.result.u-t." + request_id;
    r.created_at_ms = 10;
    return r;
  }

  // dispatch_tool_request in a transaction of its own; not_found when the transaction failed.
  Dispatch dispatch(const std::string& request_id, const std::string& daemon_id,
                    const std::string& session) {
    auto d = std::make_shared<Dispatch>(Dispatch::not_found);
    EXPECT_TRUE(transact([d, request_id, daemon_id, session](SqlTransaction& tx) -> Result<void> {
      auto got = dispatch_tool_request(tx, request_id, daemon_id, session, 20);
      if (!got) return fail(got.error());
      *d = *got;
      return {};
    }));
    return *d;
  }

  // Runs `count` copies of `increment` (which counts its failures) at once against a fresh
  // counter; returns the counter's final value, or -1 when a copy failed.
  std::int64_t count_concurrently(int count, Task<void> (*increment)(Store&, int*)) {
    if (!exec("CREATE TABLE counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)") ||
        !exec("INSERT INTO counter VALUES (1, 0)")) {
      return -1;
    }
    int failures = 0;
    {
      Scope scope(executor_);
      for (int i = 0; i < count; ++i) scope.spawn(increment(*store_, &failures));
      executor_.run_until([&scope] { return scope.live_tasks() == 0; });
    }
    auto rows = query("SELECT n FROM counter WHERE id = 1");
    if (failures > 0 || !rows) return -1;
    return first_record(*rows).integer("n");
  }

  // A message of chat "c" with one text block.
  static MessageRecord message_in_c(std::string id, std::string role, std::int64_t at_ms,
                                    std::string text) {
    MessageRecord message;
    message.id = std::move(id);
    message.chat_id = "c";
    message.role = std::move(role);
    message.created_at_ms = at_ms;
    message.blocks.push_back({"text", {{"text", std::move(text)}}});
    return message;
  }

  // The migrated store with user "u" and their chat "c".
  void with_chat_c() {
    migrate();
    ASSERT_TRUE(
        exec("INSERT INTO users (id, email, name, created_at_ms) VALUES ('u', 'u@x', 'u', 1)"));
    ChatRecord chat;
    chat.id = "c";
    chat.user_id = "u";
    ASSERT_TRUE(transact([chat](SqlTransaction& tx) { return insert_chat(tx, chat); }));
  }

  Result<void> exec(const std::string& sql, std::vector<SqlValue> params = {}) {
    return transact([sql, params](SqlTransaction& tx) -> Result<void> {
      auto r = tx.execute(sql, params);
      if (!r) return fail(r.error());
      return {};
    });
  }
};

TEST_P(StoreConformance, RoundTripsEveryValueType) {
  ASSERT_TRUE(exec("CREATE TABLE v (i BIGINT, d DOUBLE PRECISION, s TEXT, n TEXT)"));
  const std::int64_t big = std::numeric_limits<std::int64_t>::max();
  const std::int64_t small = std::numeric_limits<std::int64_t>::min();
  ASSERT_TRUE(exec("INSERT INTO v VALUES ($1, $2, $3, $4)",
                   {big, 0.25, std::string("héllo ✓ 'quoted'"), nullptr}));
  ASSERT_TRUE(
      exec("INSERT INTO v VALUES ($1, $2, $3, $4)", {small, -1e300, std::string(), nullptr}));
  auto rows = query("SELECT i, d, s, n FROM v ORDER BY i DESC");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  ASSERT_EQ(rows->rows.size(), 2u);
  EXPECT_EQ(rows->columns, (std::vector<std::string>{"i", "d", "s", "n"}));
  EXPECT_EQ(std::get<std::int64_t>(rows->rows[0][0]), big);
  EXPECT_DOUBLE_EQ(std::get<double>(rows->rows[0][1]), 0.25);
  EXPECT_EQ(std::get<std::string>(rows->rows[0][2]), "héllo ✓ 'quoted'");
  EXPECT_TRUE(std::holds_alternative<std::nullptr_t>(rows->rows[0][3]));
  EXPECT_EQ(std::get<std::int64_t>(rows->rows[1][0]), small);
  EXPECT_DOUBLE_EQ(std::get<double>(rows->rows[1][1]), -1e300);
  EXPECT_EQ(std::get<std::string>(rows->rows[1][2]), "");
}

// A body that throws (a JSON dump of text that is not UTF-8, say) fails as an internal error and
// is rolled back; the store goes on. It ran on a pool thread, where the throw ended the process.
TEST_P(StoreConformance, ABodyThatThrowsFailsAndIsRolledBack) {
  ASSERT_TRUE(exec("CREATE TABLE t (s TEXT)"));
  auto thrown = transact([](SqlTransaction& tx) -> Result<void> {
    if (auto ok = tx.execute("INSERT INTO t VALUES ('kept?')", {}); !ok) return fail(ok.error());
    nlohmann::json text = std::string("\xff");
    (void)text.dump();  // throws type_error 316
    return {};
  });
  ASSERT_FALSE(thrown.has_value());
  EXPECT_EQ(thrown.error().code, ErrorCode::internal);
  EXPECT_NE(thrown.error().message.find("threw"), std::string::npos) << thrown.error().message;
  auto rows = query("SELECT COUNT(*) AS n FROM t");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  EXPECT_EQ(first_record(*rows).integer("n"), 0);
}

TEST_P(StoreConformance, ParametersAreNumberedNotPositional) {
  auto rows = query("SELECT $2 AS second, $1 AS first", {std::string("one"), std::string("two")});
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  const SqlRecord row = first_record(*rows);
  EXPECT_EQ(row.text("second"), "two");
  EXPECT_EQ(row.text("first"), "one");
}

// Repositories read cells by column name: both backends name a column by its alias, a bare
// column by itself (also through a table alias), and report NULLs as such.
TEST_P(StoreConformance, RowsAreReadByColumnName) {
  ASSERT_TRUE(exec("CREATE TABLE named (id TEXT PRIMARY KEY, n BIGINT, note TEXT)"));
  ASSERT_TRUE(exec("INSERT INTO named (id, n, note) VALUES ('a', 7, NULL), ('b', 9, 'x')"));
  auto rows =
      query("SELECT t.id, t.n, t.note, COUNT(*) OVER () AS total FROM named t ORDER BY t.id", {});
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  std::vector<std::string> seen;
  for (const SqlRecord& row : records(*rows)) {
    seen.push_back(row.text("id") + "=" + std::to_string(row.integer("n")) + "/" +
                   row.optional_text("note").value_or("null") + "/" +
                   std::to_string(row.integer("total")));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a=7/null/2", "b=9/x/2"}));
  // A stored name no enum value has is a failure to read, not a guess.
  constexpr EnumNames<DaemonStatus, 4> names = kDaemonStatusNames;
  auto status = first_record(*rows).enumerated("id", names);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code, ErrorCode::internal);
  EXPECT_NE(status.error().message.find("'a'"), std::string::npos) << status.error().message;
}

TEST_P(StoreConformance, AFailingBodyRollsBackEverything) {
  ASSERT_TRUE(exec("CREATE TABLE r (k TEXT PRIMARY KEY)"));
  auto outcome = transact([](SqlTransaction& tx) -> Result<void> {
    if (auto r = tx.execute("INSERT INTO r VALUES ($1)", {std::string("a")}); !r)
      return fail(r.error());
    return fail(ErrorCode::failed_precondition, "changed my mind");
  });
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error().code, ErrorCode::failed_precondition);
  EXPECT_EQ(outcome.error().message, "changed my mind");
  auto rows = query("SELECT k FROM r");
  ASSERT_TRUE(rows.has_value());
  EXPECT_TRUE(rows->rows.empty());
}

TEST_P(StoreConformance, ErrorsMapToCodes) {
  ASSERT_TRUE(exec("CREATE TABLE u (k TEXT PRIMARY KEY, parent TEXT REFERENCES u(k))"));
  ASSERT_TRUE(exec("INSERT INTO u VALUES ($1, NULL)", {std::string("a")}));
  auto duplicate = exec("INSERT INTO u VALUES ($1, NULL)", {std::string("a")});
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_EQ(duplicate.error().code, ErrorCode::already_exists) << duplicate.error().message;
  auto orphan = exec("INSERT INTO u VALUES ($1, $2)", {std::string("b"), std::string("missing")});
  ASSERT_FALSE(orphan.has_value());
  EXPECT_EQ(orphan.error().code, ErrorCode::failed_precondition) << orphan.error().message;
  auto nonsense = exec("SELEKT 1");
  ASSERT_FALSE(nonsense.has_value());
  EXPECT_EQ(nonsense.error().code, ErrorCode::invalid_argument) << nonsense.error().message;
  auto no_table = query("SELECT * FROM nowhere");
  ASSERT_FALSE(no_table.has_value());
  EXPECT_EQ(no_table.error().code, ErrorCode::invalid_argument) << no_table.error().message;
}

TEST_P(StoreConformance, ExecuteReportsAffectedRows) {
  ASSERT_TRUE(exec("CREATE TABLE c (k BIGINT)"));
  auto affected = std::make_shared<std::int64_t>(-1);
  ASSERT_TRUE(transact([affected](SqlTransaction& tx) -> Result<void> {
    for (std::int64_t i = 0; i < 5; ++i) {
      if (auto r = tx.execute("INSERT INTO c VALUES ($1)", {i}); !r) return fail(r.error());
    }
    auto updated = tx.execute("UPDATE c SET k = k + 10 WHERE k >= $1", {std::int64_t{2}});
    if (!updated) return fail(updated.error());
    *affected = *updated;
    return {};
  }));
  EXPECT_EQ(*affected, 3);
}

Task<void> increment(Store& store, int* failures) {
  TransactionBody body = [](SqlTransaction& tx) -> Result<void> {
    auto r = tx.execute("UPDATE counter SET n = n + 1 WHERE id = 1", {});
    if (!r) return fail(r.error());
    return {};
  };
  Task<Result<void>> pending = store.transact(std::move(body));
  Result<void> done = co_await pending;
  if (!done) ++*failures;
}

TEST_P(StoreConformance, ConcurrentTransactionsAllCommit) {
  EXPECT_EQ(count_concurrently(50, increment), 50);
}

// A body that reads before it writes: Postgres runs leading plain reads before BEGIN, so these
// hold only if what locks or writes still runs inside the one transaction.
// (SQLite has no FOR UPDATE: its one writer holds the database.)
Task<void> read_then_increment(Store& store, int* failures) {
  const std::string lock = store.dialect() == SqlDialect::postgres ? " FOR UPDATE" : "";
  TransactionBody body = [lock](SqlTransaction& tx) -> Result<void> {
    auto seen = tx.query("SELECT n FROM counter WHERE id = 1", {});
    if (!seen) return fail(seen.error());
    auto locked = tx.query("SELECT n FROM counter WHERE id = 1" + lock, {});
    if (!locked) return fail(locked.error());
    const std::int64_t n = first_record(*locked).integer("n");
    auto r = tx.execute("UPDATE counter SET n = $1 WHERE id = 1", {n + 1});
    if (!r) return fail(r.error());
    auto after = tx.query("SELECT n FROM counter WHERE id = 1", {});
    if (!after) return fail(after.error());
    if (first_record(*after).integer("n") != n + 1)
      return fail(ErrorCode::internal, "the body does not see its own write");
    return {};
  };
  Task<Result<void>> pending = store.transact(std::move(body));
  Result<void> done = co_await pending;
  if (!done) ++*failures;
}

TEST_P(StoreConformance, ReadsBeforeWritesKeepTheTransactionWhole) {
  // Read-modify-write under FOR UPDATE from every connection at once: a lock taken outside the
  // transaction would be released at once, and increments would be lost.
  ASSERT_EQ(count_concurrently(40, read_then_increment), 40);
  // A body that read, wrote and then failed leaves nothing; one that only read commits nothing
  // and succeeds.
  auto refused = transact([](SqlTransaction& tx) -> Result<void> {
    if (auto r = tx.query("SELECT n FROM counter WHERE id = 1", {}); !r) return fail(r.error());
    if (auto r = tx.execute("UPDATE counter SET n = 0", {}); !r) return fail(r.error());
    return fail(ErrorCode::failed_precondition, "changed my mind");
  });
  ASSERT_FALSE(refused.has_value());
  auto read = query("SELECT n FROM counter WHERE id = 1");
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(first_record(*read).integer("n"), 40);
}

TEST_P(StoreConformance, MigrationsApplyOnceAndReportStatus) {
  auto before = run_blocking(executor_, schema_status(*store_));
  ASSERT_TRUE(before.has_value()) << before.error().message;
  EXPECT_EQ(before->current, 0);
  EXPECT_EQ(before->pending.size(), migrations().size());
  auto refused = run_blocking(executor_, require_current_schema(*store_));
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().message.find("run `reliant db migrate up`"), std::string::npos);

  auto first = run_blocking(executor_, migrate_up(*store_, executor_.now()));
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->size(), migrations().size());
  auto second = run_blocking(executor_, migrate_up(*store_, executor_.now()));
  ASSERT_TRUE(second.has_value());
  EXPECT_TRUE(second->empty()) << "migrate up is idempotent";
  auto after = run_blocking(executor_, schema_status(*store_));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->current, latest_schema_version());
  EXPECT_TRUE(after->pending.empty());
  EXPECT_TRUE(run_blocking(executor_, require_current_schema(*store_)).has_value());
}

TEST_P(StoreConformance, ConcurrentMigratorsApplyEachMigrationOnce) {
  auto other = backend_->open(executor_);
  ASSERT_NE(other, nullptr);
  std::vector<std::int64_t> applied_a;
  std::vector<std::int64_t> applied_b;
  int failures = 0;
  struct Runner {
    static Task<void> run(Store& store, Instant now, std::vector<std::int64_t>* out,
                          int* failures) {
      Task<Result<std::vector<std::int64_t>>> pending = migrate_up(store, now);
      Result<std::vector<std::int64_t>> applied = co_await pending;
      if (applied) {
        *out = *applied;
      } else {
        ++*failures;
      }
    }
  };
  {
    Scope scope(executor_);
    scope.spawn(Runner::run(*store_, executor_.now(), &applied_a, &failures));
    scope.spawn(Runner::run(*other, executor_.now(), &applied_b, &failures));
    executor_.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(applied_a.size() + applied_b.size(), migrations().size());
  auto rows = query("SELECT COUNT(*) AS applied FROM schema_migrations");
  ASSERT_TRUE(rows.has_value());
  EXPECT_EQ(first_record(*rows).integer("applied"), static_cast<std::int64_t>(migrations().size()));
}

TEST_P(StoreConformance, ANewerDatabaseIsRefused) {
  migrate();
  ASSERT_TRUE(
      exec("INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)",
           {latest_schema_version() + 1, std::string("from the future"), std::int64_t{0}}));
  auto refused = run_blocking(executor_, require_current_schema(*store_));
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::failed_precondition);
  EXPECT_NE(refused.error().message.find("newer than this binary"), std::string::npos)
      << refused.error().message;
  auto migrated = run_blocking(executor_, migrate_up(*store_, executor_.now()));
  ASSERT_FALSE(migrated.has_value());
  EXPECT_NE(migrated.error().message.find("upgrade reliant"), std::string::npos)
      << migrated.error().message;
}

// Migration 9: a chat of version 8 that says 'agent' ran the chat agent, and still does; after
// it, a chat may run a project's workflow called agent.
TEST_P(StoreConformance, ChatsThatSayAgentRunTheBuiltinAfterMigrationNine) {
  auto older = run_blocking(executor_, migrate_up(*store_, executor_.now(), 8));
  ASSERT_TRUE(older.has_value()) << older.error().message;
  ASSERT_TRUE(
      exec("INSERT INTO users (id, email, name, created_at_ms) VALUES ('u', 'u@x', 'u', 1)"));
  ASSERT_TRUE(
      exec("INSERT INTO chats (id, user_id, title, status, created_at_ms, updated_at_ms) VALUES "
           "('old', 'u', 't', 'idle', 1, 1)"));
  migrate();
  ChatRecord fresh;
  fresh.id = "new";
  fresh.user_id = "u";
  fresh.workflow = "agent";  // a project's workflow by that name
  ASSERT_TRUE(transact([fresh](SqlTransaction& tx) { return insert_chat(tx, fresh); }));
  auto workflows = std::make_shared<std::vector<std::string>>();
  ASSERT_TRUE(transact([workflows](SqlTransaction& tx) -> Result<void> {
    for (const char* id : {"old", "new"}) {
      auto chat = find_chat(tx, id);
      if (!chat) return fail(chat.error());
      workflows->push_back((*chat)->workflow);
    }
    return {};
  }));
  EXPECT_EQ(*workflows, (std::vector<std::string>{"builtin://agent", "agent"}));
}

// User updates are numbered per user, in the order given, across users' interleaved runs and
// across transactions; bodies and chat ids come back as written (an empty chat id as none).
TEST_P(StoreConformance, UserUpdatesAreNumberedPerUserInOrder) {
  migrate();
  ASSERT_TRUE(
      exec("INSERT INTO users (id, email, name, created_at_ms) VALUES ('u', 'u@x', 'u', 1), "
           "('v', 'v@x', 'v', 1)"));
  const SqlDialect dialect = store_->dialect();
  const auto event = [](const char* user, const char* kind, const char* chat, nlohmann::json body) {
    return updates::UserEvent{user, 0, kind, chat, std::move(body), 7};
  };
  auto first = std::make_shared<std::vector<updates::UserEvent>>();
  first->push_back(event("u", "chat_created", "c1", {{"title", "say \"hi\" C:\\dir {a,b}"}}));
  first->push_back(event("u", "message", "c1", {{"text", "h\u00e9 \u2713"}}));
  first->push_back(event("v", "chat_created", "c2", nlohmann::json::object()));
  first->push_back(event("u", "settings", "", {{"n", 1}}));
  auto second = std::make_shared<std::vector<updates::UserEvent>>();
  second->push_back(event("u", "message", "c1", nlohmann::json::object()));
  second->push_back(event("u", "message", "c1", nlohmann::json::object()));
  for (const auto& events : {first, second}) {
    ASSERT_TRUE(transact([dialect, events](SqlTransaction& tx) {
      return updates::append_user_events(tx, dialect, *events);
    }));
  }
  std::vector<std::int64_t> seqs;
  for (const auto& e : *first) seqs.push_back(e.seq);
  for (const auto& e : *second) seqs.push_back(e.seq);
  EXPECT_EQ(seqs, (std::vector<std::int64_t>{1, 2, 1, 3, 4, 5}));
  auto read = std::make_shared<std::vector<updates::UserEvent>>();
  ASSERT_TRUE(transact([read](SqlTransaction& tx) -> Result<void> {
    auto events = updates::read_user_events(tx, "u", 0, 10);
    if (!events) return fail(events.error());
    *read = std::move(*events);
    return {};
  }));
  ASSERT_EQ(read->size(), 5u);
  const std::vector<const updates::UserEvent*> written{&(*first)[0], &(*first)[1], &(*first)[3],
                                                       &(*second)[0], &(*second)[1]};
  for (std::size_t i = 0; i < read->size(); ++i) {
    EXPECT_EQ((*read)[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ((*read)[i].kind, written[i]->kind);
    EXPECT_EQ((*read)[i].chat_id, written[i]->chat_id);
    EXPECT_EQ((*read)[i].body, written[i]->body);
    EXPECT_EQ((*read)[i].created_at_ms, 7);
  }
}

// A user's updates older than kUserEventsKeptMs go as the log grows: each append that crosses a
// multiple of 256 numbers deletes the oldest prefix of them (at most 1024 rows), never a young
// one nor another user's, and never a number within the prefix is left behind. A reader resuming
// from before the oldest kept is told its page is gone; one resuming from there on reads on.
TEST_P(StoreConformance, OldUserUpdatesArePrunedAndAReaderThatMissedThemIsTold) {
  migrate();
  ASSERT_TRUE(
      exec("INSERT INTO users (id, email, name, created_at_ms) VALUES ('u', 'u@x', 'u', 1), "
           "('v', 'v@x', 'v', 1)"));
  const SqlDialect dialect = store_->dialect();
  const std::int64_t now_ms = 100 * updates::kUserEventsKeptMs;
  const std::int64_t old_ms = now_ms - updates::kUserEventsKeptMs - 1;
  // Appends `count` events of `user` created at `at_ms`, `per_batch` a transaction.
  const auto append = [&](const char* user, int count, std::int64_t at_ms, int per_batch) {
    for (int done = 0; done < count; done += per_batch) {
      auto events = std::make_shared<std::vector<updates::UserEvent>>();
      for (int i = done; i < std::min(count, done + per_batch); ++i) {
        events->push_back(updates::UserEvent{user, 0, "message", "c1", {{"i", i}}, at_ms});
      }
      ASSERT_TRUE(transact([dialect, events](SqlTransaction& tx) {
        return updates::append_user_events(tx, dialect, *events);
      }));
    }
  };
  const auto numbers = [&](const char* user) {
    auto rows = query(
        "SELECT MIN(seq) AS low, MAX(seq) AS high, COUNT(*) AS n FROM user_events "
        "WHERE user_id = '" +
        std::string(user) + "'");
    EXPECT_TRUE(rows) << rows.error().describe();
    const SqlRecord r = first_record(*rows);
    return std::tuple{r.integer("low"), r.integer("high"), r.integer("n")};
  };
  const auto page = [&](const char* chat, std::int64_t since) {
    auto out = std::make_shared<updates::EventsPage>();
    EXPECT_TRUE(transact([out, chat, since](SqlTransaction& tx) -> Result<void> {
      auto read = updates::read_events_page(tx, "u", chat, since, 10);
      if (!read) return fail(read.error());
      *out = std::move(*read);
      return {};
    }));
    return *out;
  };
  // 1,500 old events of u, in batches that cross 256 now and then: all of them old, nothing
  // goes yet but what the crossings' cutoffs (old events' own times) make old — none.
  append("u", 1500, old_ms, 7);
  append("v", 300, old_ms, 300);
  EXPECT_EQ(numbers("u"), std::tuple(std::int64_t{1}, std::int64_t{1500}, std::int64_t{1500}));
  // Young events: the batch that crosses 1,536 deletes the 1,024 oldest; the one that crosses
  // 1,792 the rest of the old ones, and stops at the first young one.
  append("u", 36, now_ms, 36);
  EXPECT_EQ(numbers("u"), std::tuple(std::int64_t{1025}, std::int64_t{1536}, std::int64_t{512}));
  append("u", 300, now_ms, 10);
  EXPECT_EQ(numbers("u"), std::tuple(std::int64_t{1501}, std::int64_t{1836}, std::int64_t{336}));
  // Another user's log is not touched by u's pruning.
  EXPECT_EQ(numbers("v"), std::tuple(std::int64_t{1}, std::int64_t{300}, std::int64_t{300}));
  // A reader whose next number was pruned is told, for the user's updates and for a chat's.
  for (const char* chat : {"", "c1"}) {
    EXPECT_TRUE(page(chat, 0).gone) << chat;
    EXPECT_TRUE(page(chat, 1499).gone) << chat;
    const updates::EventsPage from_oldest = page(chat, 1500);
    EXPECT_FALSE(from_oldest.gone) << chat;
    ASSERT_EQ(from_oldest.events.size(), 10u) << chat;
    EXPECT_EQ(from_oldest.events.front().seq, 1501) << chat;
    EXPECT_EQ(from_oldest.covered_seq, 1510) << chat;
    // At the head, or past it, there is nothing to read and nothing missed.
    const updates::EventsPage at_head = page(chat, 1836);
    EXPECT_FALSE(at_head.gone) << chat;
    EXPECT_TRUE(at_head.events.empty()) << chat;
    EXPECT_EQ(at_head.covered_seq, 1836) << chat;
  }
}

// A message is written once, whole: its blocks exactly as given (quotes, backslashes, text that
// is not ASCII), the next ordinal, the chat touched; a second write of its id changes nothing
// and returns the first.
TEST_P(StoreConformance, AMessageIsStoredOnceWithItsBlocks) {
  with_chat_c();
  if (HasFatalFailure()) return;
  const MessageRecord first = message_in_c("m1", "user", 5, "plain");
  MessageRecord second = first;
  second.id = "m2";
  second.role = "assistant";
  second.created_at_ms = 9;
  second.blocks = {{"text", {{"text", "say \"hi\" C:\\dir {a,b} h\u00e9 \u2713"}}},
                   {"tool_call", {{"id", "t\"1"}, {"input", {{"cmd", "echo '\\n'"}}}}},
                   {"text", {{"text", ""}}}};
  const SqlDialect dialect = store_->dialect();
  auto stored = std::make_shared<std::vector<StoredMessage>>();
  ASSERT_TRUE(transact([=](SqlTransaction& tx) -> Result<void> {
    for (const MessageRecord* m : {&first, &second, &second}) {
      auto written = insert_message_once(tx, dialect, *m);
      if (!written) return fail(written.error());
      stored->push_back(std::move(*written));
    }
    return {};
  }));
  ASSERT_EQ(stored->size(), 3u);
  EXPECT_TRUE((*stored)[0].inserted);
  EXPECT_TRUE((*stored)[1].inserted);
  EXPECT_FALSE((*stored)[2].inserted) << "the second write of m2";
  EXPECT_EQ((*stored)[0].message.ordinal, 1);
  EXPECT_EQ((*stored)[1].message.ordinal, 2);
  EXPECT_EQ((*stored)[2].message.ordinal, 2);
  auto loaded = std::make_shared<std::vector<MessageRecord>>();
  auto touched = std::make_shared<std::int64_t>(0);
  ASSERT_TRUE(transact([loaded, touched](SqlTransaction& tx) -> Result<void> {
    auto messages = load_messages(tx, "c");
    if (!messages) return fail(messages.error());
    *loaded = std::move(*messages);
    auto found = find_chat(tx, "c");
    if (!found) return fail(found.error());
    *touched = (*found)->updated_at_ms;
    return {};
  }));
  ASSERT_EQ(loaded->size(), 2u);
  ASSERT_EQ((*loaded)[1].blocks.size(), second.blocks.size());
  for (std::size_t i = 0; i < second.blocks.size(); ++i) {
    EXPECT_EQ((*loaded)[1].blocks[i].kind, second.blocks[i].kind);
    EXPECT_EQ((*loaded)[1].blocks[i].body, second.blocks[i].body);
  }
  EXPECT_EQ((*stored)[2].message.blocks.size(), second.blocks.size());
  EXPECT_EQ(*touched, 9);
}

// A message written with a status change sets its chat's status and run, whether or not the
// message is new (a resent message still moves the chat on); without a chat, nothing is written.
TEST_P(StoreConformance, AMessageCanMoveItsChatOnInTheSameWrite) {
  with_chat_c();
  if (HasFatalFailure()) return;
  const MessageRecord message = message_in_c("m1", "user", 7, "go");
  const SqlDialect dialect = store_->dialect();
  const auto chat_now = [this] {
    auto out = std::make_shared<ChatRecord>();
    EXPECT_TRUE(transact([out](SqlTransaction& tx) -> Result<void> {
      auto found = find_chat(tx, "c");
      if (!found) return fail(found.error());
      if (!*found) return fail(ErrorCode::not_found, "no chat c");
      *out = **found;
      return {};
    }));
    return *out;
  };
  auto inserted = std::make_shared<std::vector<bool>>();
  const auto write = [=, this](const MessageRecord& m, ChatStatusChange change) {
    return transact([=](SqlTransaction& tx) -> Result<void> {
      auto written = insert_message_once(tx, dialect, m, change);
      if (!written) return fail(written.error());
      inserted->push_back(written->inserted);
      return {};
    });
  };
  ASSERT_TRUE(write(message, {ChatStatus::running, "run-1"}));
  EXPECT_EQ(chat_now().status, ChatStatus::running);
  EXPECT_EQ(chat_now().workflow_run_id, "run-1");
  EXPECT_EQ(chat_now().updated_at_ms, 7);
  // The same message again, with another change: not stored twice, the chat moved on anyway; an
  // empty run keeps the chat's.
  ASSERT_TRUE(write(message, {ChatStatus::failed, ""}));
  EXPECT_EQ(*inserted, (std::vector<bool>{true, false}));
  EXPECT_EQ(chat_now().status, ChatStatus::failed);
  EXPECT_EQ(chat_now().workflow_run_id, "run-1");
  // A chat that is not there: refused, and the message is not kept.
  MessageRecord stray = message;
  stray.id = "m2";
  stray.chat_id = "gone";
  auto refused = write(stray, {ChatStatus::running, "run-2"});
  ASSERT_FALSE(refused.has_value());
  EXPECT_TRUE(refused.error().code == ErrorCode::not_found ||
              refused.error().code == ErrorCode::failed_precondition)
      << refused.error().message;
  auto kept = std::make_shared<std::optional<MessageRecord>>();
  ASSERT_TRUE(transact([kept](SqlTransaction& tx) -> Result<void> {
    auto found = find_message(tx, "m2");
    if (!found) return fail(found.error());
    *kept = std::move(*found);
    return {};
  }));
  EXPECT_FALSE(kept->has_value());
}

// A send's write (insert_new_message): the ordinal read under the chat's lock, the message with
// its blocks and the chat's move, sent with the next statement on Postgres. Should the ordinal be
// taken after all (a writer that did not wait for the lock), the transaction fails and nothing of
// it stays: the message is never stored under an ordinal the sender was not told.
TEST_P(StoreConformance, ANewMessageTakesTheOrdinalReadUnderItsChatsLockOrFailsItsTransaction) {
  with_chat_c();
  if (HasFatalFailure()) return;
  const SqlDialect dialect = store_->dialect();
  const auto send = [=, this](std::string id, bool race) {
    return transact([=](SqlTransaction& tx) -> Result<void> {
      auto read =
          tx.query_together({lock_chat_statement(dialect, "c"), next_ordinal_statement("c")});
      if (!read) return fail(read.error());
      MessageRecord message = message_in_c(id, "user", 9, "hello " + id);
      message.blocks.push_back({"text", {{"text", "second block"}}});
      message.ordinal = next_ordinal_of((*read)[1]);
      if (race) {  // another message takes the ordinal first
        auto raced = insert_message_once(tx, dialect, message_in_c(id + "-raced", "user", 9, "x"));
        if (!raced) return fail(raced.error());
      }
      if (auto ok = insert_new_message(tx, dialect, message, {ChatStatus::running, "run-" + id});
          !ok)
        return ok;
      // A statement after the write, as the send's updates are: it carries the write on Postgres.
      auto after = tx.query_last("SELECT COUNT(*) AS n FROM chats", {});
      if (!after) return fail(after.error());
      return {};
    });
  };
  ASSERT_TRUE(send("m1", false));
  ASSERT_TRUE(send("m2", false));
  auto kept = std::make_shared<std::vector<MessageRecord>>();
  auto chat = std::make_shared<ChatRecord>();
  const auto read_back = [=, this] {
    ASSERT_TRUE(transact([=](SqlTransaction& tx) -> Result<void> {
      auto messages = load_messages(tx, "c");
      if (!messages) return fail(messages.error());
      *kept = std::move(*messages);
      auto found = find_chat(tx, "c");
      if (!found) return fail(found.error());
      *chat = found->value();
      return {};
    }));
  };
  read_back();
  ASSERT_EQ(kept->size(), 2u);
  EXPECT_EQ((*kept)[0].id, "m1");
  EXPECT_EQ((*kept)[0].ordinal, 1);
  EXPECT_EQ((*kept)[1].id, "m2");
  EXPECT_EQ((*kept)[1].ordinal, 2);
  ASSERT_EQ((*kept)[1].blocks.size(), 2u);
  EXPECT_EQ((*kept)[1].blocks[1].body.value("text", ""), "second block");
  EXPECT_EQ(chat->status, ChatStatus::running);
  EXPECT_EQ(chat->workflow_run_id, "run-m2");
  EXPECT_EQ(chat->updated_at_ms, 9);

  auto raced = send("m3", true);
  ASSERT_FALSE(raced.has_value());
  read_back();
  EXPECT_EQ(kept->size(), 2u) << "nothing of the failed transaction stays";
  EXPECT_EQ(chat->workflow_run_id, "run-m2");
}

// Migration 5 rebuilds engine_tasks on SQLite: the tasks of a version-4 database survive with
// every column, the indexes are back, and the constraints still hold.
TEST_P(StoreConformance, EngineTasksSurviveMigrationFive) {
  auto older = run_blocking(executor_, migrate_up(*store_, executor_.now(), 4));
  ASSERT_TRUE(older.has_value()) << older.error().message;
  ASSERT_EQ(older->back(), 4);
  ASSERT_TRUE(
      exec("INSERT INTO workflow_runs (id, namespace, workflow_name, status, input_json, "
           "created_at_ms, updated_at_ms) VALUES ('r1', 'q', 'w', 'running', '{}', 1, 1)"));
  ASSERT_TRUE(exec(
      "INSERT INTO engine_tasks (id, queue, kind, run_id, event_seq, status, attempt, "
      "max_attempts, visible_at_ms, lease_owner, leased_at_ms, lease_expires_at_ms, "
      "start_to_close_ms, heartbeat_timeout_ms, last_error, created_at_ms, updated_at_ms) VALUES "
      "('t1', 'q', 'activity', 'r1', 3, 'leased', 2, 5, 10, 'w1', 11, 99, 50, 7, 'boom', 1, 2), "
      "('t2', 'q', 'workflow', 'r1', 0, 'ready', 0, 1, 10, NULL, NULL, NULL, 0, 0, NULL, 1, 1)"));

  migrate();
  auto rows = query(
      "SELECT id, kind, status, attempt, max_attempts, lease_owner, lease_expires_at_ms, "
      "start_to_close_ms, heartbeat_timeout_ms, last_error FROM engine_tasks ORDER BY id");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  ASSERT_EQ(rows->rows.size(), 2u);
  const SqlRecord leased(*rows, 0);
  EXPECT_EQ(leased.text("id"), "t1");
  EXPECT_EQ(leased.text("kind"), "activity");
  EXPECT_EQ(leased.text("status"), "leased");
  EXPECT_EQ(leased.integer("attempt"), 2);
  EXPECT_EQ(leased.integer("max_attempts"), 5);
  EXPECT_EQ(leased.text("lease_owner"), "w1");
  EXPECT_EQ(leased.integer("lease_expires_at_ms"), 99);
  EXPECT_EQ(leased.integer("start_to_close_ms"), 50);
  EXPECT_EQ(leased.integer("heartbeat_timeout_ms"), 7);
  EXPECT_EQ(leased.text("last_error"), "boom");
  EXPECT_EQ(SqlRecord(*rows, 1).text("status"), "ready");

  auto expired =
      query("SELECT id FROM engine_tasks WHERE status = 'leased' AND lease_expires_at_ms < 100");
  ASSERT_TRUE(expired.has_value());
  ASSERT_EQ(expired->rows.size(), 1u);
  EXPECT_EQ(first_record(*expired).text("id"), "t1");
  auto bad_status = exec("UPDATE engine_tasks SET status = 'lost' WHERE id = 't1'");
  ASSERT_FALSE(bad_status.has_value());
  EXPECT_EQ(bad_status.error().code, ErrorCode::failed_precondition) << bad_status.error().message;
  auto bad_kind = exec("UPDATE engine_tasks SET kind = 'other' WHERE id = 't2'");
  ASSERT_FALSE(bad_kind.has_value());
  auto orphan = exec(
      "INSERT INTO engine_tasks (id, queue, kind, run_id, event_seq, status, visible_at_ms, "
      "created_at_ms, updated_at_ms) VALUES ('t3', 'q', 'workflow', 'nope', 0, 'ready', 1, 1, 1)");
  EXPECT_FALSE(orphan.has_value()) << "the reference to workflow_runs holds";
  ASSERT_TRUE(exec("DELETE FROM workflow_runs WHERE id = 'r1'"));
  auto left = query("SELECT COUNT(*) AS tasks FROM engine_tasks");
  ASSERT_TRUE(left.has_value());
  EXPECT_EQ(first_record(*left).integer("tasks"), 0) << "deleting a run still deletes its tasks";
}

TEST_P(StoreConformance, UsersAndTokens) {
  migrate();
  const User ada{"01USERADA0000000000000000A", "ada@example.com", "Ada", 1000};
  ASSERT_TRUE(transact([ada](SqlTransaction& tx) { return insert_user(tx, ada); }));
  auto duplicate = transact([ada](SqlTransaction& tx) {
    User again = ada;
    again.id = "01USERADA0000000000000000B";
    return insert_user(tx, again);
  });
  ASSERT_FALSE(duplicate.has_value());
  EXPECT_EQ(duplicate.error().code, ErrorCode::already_exists);
  EXPECT_EQ(duplicate.error().message, "a user with email ada@example.com already exists");
  auto bad_email = transact([](SqlTransaction& tx) {
    return insert_user(tx, User{"x", "not-an-email", "", 0});
  });
  ASSERT_FALSE(bad_email.has_value());
  EXPECT_EQ(bad_email.error().code, ErrorCode::invalid_argument);

  std::array<std::uint8_t, kPatRandomBytes> secret{};
  secret.fill(7);
  const std::string token = format_pat(secret);
  const PersonalAccessToken meta{
      "01TOKEN0000000000000000001", ada.id, "laptop", pat_display_prefix(token), 2000, {}, {}, {}};
  ASSERT_TRUE(transact(
      [meta, token](SqlTransaction& tx) { return insert_token(tx, meta, hash_pat(token)); }));

  auto who = std::make_shared<Authenticated>();
  ASSERT_TRUE(transact([token, who](SqlTransaction& tx) -> Result<void> {
    auto a = authenticate_token(tx, token, 3000);
    if (!a) return fail(a.error());
    *who = *a;
    return {};
  }));
  EXPECT_EQ(who->user.email, "ada@example.com");
  EXPECT_EQ(who->token_id, meta.id);

  for (const std::string& wrong :
       {token.substr(0, token.size() - 1) + (token.back() == 'a' ? "b" : "a"),
        std::string("rlnt_pat_short"), std::string()}) {
    auto refused = transact([wrong](SqlTransaction& tx) -> Result<void> {
      auto a = authenticate_token(tx, wrong, 3000);
      if (!a) return fail(a.error());
      return {};
    });
    ASSERT_FALSE(refused.has_value());
    EXPECT_EQ(refused.error().code, ErrorCode::unauthenticated);
  }

  auto tokens = std::make_shared<std::vector<PersonalAccessToken>>();
  ASSERT_TRUE(transact([tokens, ada](SqlTransaction& tx) -> Result<void> {
    auto t = list_tokens(tx, ada.id);
    if (!t) return fail(t.error());
    *tokens = *t;
    return {};
  }));
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].last_used_at_ms, 3000) << "authentication records the last use";
  EXPECT_EQ((*tokens)[0].display_prefix, token.substr(0, 13));

  // Scoped to another owner, the token is not found and stays valid.
  auto not_theirs = transact([meta](SqlTransaction& tx) {
    return revoke_token(tx, meta.id, 3500, std::string("someone-else"));
  });
  ASSERT_FALSE(not_theirs.has_value());
  EXPECT_EQ(not_theirs.error().code, ErrorCode::not_found);
  ASSERT_TRUE(transact([token](SqlTransaction& tx) -> Result<void> {
    auto a = authenticate_token(tx, token, 3600);
    if (!a) return fail(a.error());
    return {};
  }));
  ASSERT_TRUE(transact(
      [meta](SqlTransaction& tx) { return revoke_token(tx, meta.id, 4000, meta.user_id); }));
  auto revoked = transact([token](SqlTransaction& tx) -> Result<void> {
    auto a = authenticate_token(tx, token, 5000);
    if (!a) return fail(a.error());
    return {};
  });
  ASSERT_FALSE(revoked.has_value());
  EXPECT_EQ(revoked.error().code, ErrorCode::unauthenticated);
  auto unknown = transact([](SqlTransaction& tx) { return revoke_token(tx, "nope", 4000); });
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);

  // The database never holds the token itself.
  auto stored = query("SELECT token_hash FROM personal_access_tokens");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(first_record(*stored).text("token_hash"), hash_pat(token));
  EXPECT_EQ(first_record(*stored).text("token_hash").find(token), std::string::npos);
}

TEST_P(StoreConformance, ExpiredTokensAreRefused) {
  migrate();
  ASSERT_TRUE(transact([](SqlTransaction& tx) {
    return insert_user(tx, User{"01USER00000000000000000009", "eve@example.com", "Eve", 1000});
  }));
  std::array<std::uint8_t, kPatRandomBytes> secret{};
  secret.fill(9);
  const std::string token = format_pat(secret);
  const PersonalAccessToken meta{"01TOKEN0000000000000000009",
                                 "01USER00000000000000000009",
                                 "ci",
                                 pat_display_prefix(token),
                                 2000,
                                 {},
                                 {},
                                 4000};
  ASSERT_TRUE(transact(
      [meta, token](SqlTransaction& tx) { return insert_token(tx, meta, hash_pat(token)); }));
  const auto at = [this, token](std::int64_t now_ms) {
    return transact([token, now_ms](SqlTransaction& tx) -> Result<void> {
      auto a = authenticate_token(tx, token, now_ms);
      if (!a) return fail(a.error());
      return {};
    });
  };
  EXPECT_TRUE(at(3999).has_value());
  auto expired = at(4000);
  ASSERT_FALSE(expired.has_value());
  EXPECT_EQ(expired.error().code, ErrorCode::unauthenticated);
  EXPECT_EQ(expired.error().message, "invalid, revoked or expired token");
}

TEST_P(StoreConformance, DaemonConnectionsAreConditionalOnTheLatestConnection) {
  migrate();
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
    if (auto ok = insert_user(tx, User{"u-a", "a@example.com", "A", 0}); !ok) return ok;
    return insert_user(tx, User{"u-b", "b@example.com", "B", 0});
  }));
  DaemonRecord d;
  d.id = "01DAEMON000000000000000001";
  d.user_id = "u-a";
  d.name = "laptop";
  d.labels = {{"os", "linux"}, {"gpu", "true"}};
  d.gateway_id = "gw-1";
  d.connected_at_ms = 1000;
  d.connection_id = "c1";
  d.session_id = "s1";
  ASSERT_TRUE(transact([d](SqlTransaction& tx) { return record_daemon_connected(tx, d); }));
  DaemonRecord again = d;  // reconnects through another gateway
  again.gateway_id = "gw-2";
  again.connected_at_ms = 2000;
  again.connection_id = "c2";
  ASSERT_TRUE(transact([again](SqlTransaction& tx) { return record_daemon_connected(tx, again); }));
  // The first gateway's late "disconnected" must not touch the newer connection.
  auto stale = std::make_shared<bool>(true);
  ASSERT_TRUE(transact([stale, d](SqlTransaction& tx) -> Result<void> {
    auto applied = record_daemon_status(tx, d.id, "c1", DaemonStatus::disconnected, 3000);
    if (!applied) return fail(applied.error());
    *stale = *applied;
    return {};
  }));
  EXPECT_FALSE(*stale);
  auto found = std::make_shared<std::optional<DaemonRecord>>();
  ASSERT_TRUE(transact([found, d](SqlTransaction& tx) -> Result<void> {
    auto f = find_daemon(tx, d.id);
    if (!f) return fail(f.error());
    *found = *f;
    return {};
  }));
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->status, DaemonStatus::active);
  EXPECT_EQ((*found)->gateway_id, "gw-2");
  EXPECT_EQ((*found)->labels, d.labels);
  // Another user cannot take the daemon's identity.
  DaemonRecord thief = d;
  thief.user_id = "u-b";
  auto refused =
      transact([thief](SqlTransaction& tx) { return record_daemon_connected(tx, thief); });
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::permission_denied);
}

// A node's daemon choice reads the user's daemons and its chat's session daemon together: one
// statement, and the chat's daemon is still found when the user has no daemon to carry it.
TEST_P(StoreConformance, ANodeReadsItsChatsDaemonWithTheUsersDaemons) {
  migrate();
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
    if (auto ok = insert_user(tx, User{"u-a", "a@example.com", "A", 0}); !ok) return ok;
    return insert_user(tx, User{"u-b", "b@example.com", "B", 0});
  }));
  for (const char* id : {"01DAEMON000000000000000002", "01DAEMON000000000000000001"}) {
    DaemonRecord d;
    d.id = id;
    d.user_id = "u-a";
    d.name = id;
    d.connection_id = std::string("c-") + id;
    d.created_at_ms = 100;
    ASSERT_TRUE(transact([d](SqlTransaction& tx) { return record_daemon_connected(tx, d); }));
  }
  for (auto [id, user, daemon] :
       {std::tuple{"ca", "u-a", "01DAEMON000000000000000002"}, std::tuple{"cn", "u-a", ""},
        std::tuple{"cb", "u-b", "01DAEMON000000000000000001"}}) {
    ChatRecord chat;
    chat.id = id;
    chat.user_id = user;
    chat.active_daemon_id = daemon;
    ASSERT_TRUE(transact([chat](SqlTransaction& tx) { return insert_chat(tx, chat); }));
  }
  auto read = [&](const std::string& user, const std::string& chat) {
    auto out = std::make_shared<ChatDaemons>();
    auto ok = transact([out, user, chat](SqlTransaction& tx) -> Result<void> {
      auto r = list_daemons_for_chat(tx, user, chat);
      if (!r) return fail(r.error());
      *out = std::move(*r);
      return {};
    });
    EXPECT_TRUE(ok.has_value()) << ok.error().message;
    std::vector<std::string> ids;
    for (const auto& d : out->daemons) ids.push_back(d.id);
    return std::pair{out->chat_daemon_id, ids};
  };
  const std::vector<std::string> both{"01DAEMON000000000000000001", "01DAEMON000000000000000002"};
  EXPECT_EQ(read("u-a", "ca"), std::pair(std::string("01DAEMON000000000000000002"), both));
  EXPECT_EQ(read("u-a", "cn"), std::pair(std::string(), both));
  EXPECT_EQ(read("u-a", "missing"), std::pair(std::string(), both));
  // (Another user's daemon: the read tells what the chat names, daemon selection refuses it.)
  EXPECT_EQ(read("u-b", "cb"),
            std::pair(std::string("01DAEMON000000000000000001"), std::vector<std::string>{}));
  EXPECT_EQ(read("u-b", "missing"), std::pair(std::string(), std::vector<std::string>{}));
}

TEST_P(StoreConformance, ToolRequestsAreDispatchedToOneSessionAndCompletedOnce) {
  migrate();
  ASSERT_TRUE(transact([](SqlTransaction& tx) {
    return insert_user(tx, User{"u-t", "t@example.com", "T", 0});
  }));
  const ToolRequestRecord r = tool_request("req-1", "01DAEMON000000000000000002");
  auto inserted = std::make_shared<std::vector<bool>>();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(transact([r, inserted](SqlTransaction& tx) -> Result<void> {
      auto ok = store_tool_request(tx, r);
      if (!ok) return fail(ok.error());
      inserted->push_back(ok->inserted);
      return {};
    }));
  }
  EXPECT_EQ(*inserted, (std::vector<bool>{true, false})) << "a retried insert is a no-op";
  const auto dispatch = [this, r](const std::string& session) {
    return StoreConformance::dispatch(r.request_id, r.daemon_id, session);
  };
  auto open = std::make_shared<std::size_t>(0);
  const auto count_open = [this, open, r] {
    EXPECT_TRUE(transact([open, r](SqlTransaction& tx) -> Result<void> {
      auto rows = open_tool_requests(tx, r.daemon_id, 10);
      if (!rows) return fail(rows.error());
      *open = rows->size();
      return {};
    }));
    return *open;
  };
  EXPECT_EQ(count_open(), 1u);
  EXPECT_EQ(dispatch("s1"), Dispatch::send);
  EXPECT_EQ(dispatch("s1"), Dispatch::resend);
  EXPECT_EQ(dispatch("s2"), Dispatch::lost) << "a restarted daemon must not run it again";
  auto first = std::make_shared<std::vector<bool>>();
  for (const char* result : {R"({"content":"first"})", R"({"content":"second"})"}) {
    ASSERT_TRUE(transact([first, result](SqlTransaction& tx) -> Result<void> {
      auto ok = complete_tool_request(tx, "req-1", result, 30);
      if (!ok) return fail(ok.error());
      first->push_back(*ok);
      return {};
    }));
  }
  EXPECT_EQ(*first, (std::vector<bool>{true, false}));
  EXPECT_EQ(dispatch("s1"), Dispatch::completed);
  EXPECT_EQ(count_open(), 0u);
  auto stored = std::make_shared<std::optional<ToolRequestRecord>>();
  ASSERT_TRUE(transact([stored](SqlTransaction& tx) -> Result<void> {
    auto f = find_tool_request(tx, "req-1");
    if (!f) return fail(f.error());
    *stored = *f;
    return {};
  }));
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ((*stored)->result_json, std::optional<std::string>(R"({"content":"first"})"));
}

// Every attempt of a workflow step sends the same request id, and a later attempt may choose
// another daemon (the first one's registration may never have connected): a request no daemon
// has received goes with the retry; one a daemon received stays with that daemon.
TEST_P(StoreConformance, ARetriedToolRequestMovesToItsNewDaemonOnlyUntilOneReceivesIt) {
  migrate();
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
    if (auto ok = insert_user(tx, User{"u-t", "t@example.com", "T", 0}); !ok) return ok;
    return insert_user(tx, User{"u-o", "o@example.com", "O", 0});
  }));
  const auto store = [this](ToolRequestRecord r) {
    auto out = std::make_shared<Result<StoredToolRequest>>(fail(ErrorCode::internal, "unset"));
    EXPECT_TRUE(transact([r, out](SqlTransaction& tx) -> Result<void> {
      *out = store_tool_request(tx, r);
      return {};
    }));
    return *out;
  };
  const ToolRequestRecord r = tool_request("run-10-0", "01DAEMON00000000000000000A");
  auto first = store(r);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(first->inserted);
  EXPECT_EQ(first->daemon_id, r.daemon_id);

  ToolRequestRecord retry = r;
  retry.daemon_id = "01DAEMON00000000000000000B";
  auto moved = store(retry);
  ASSERT_TRUE(moved.has_value());
  EXPECT_FALSE(moved->inserted);
  EXPECT_EQ(moved->daemon_id, retry.daemon_id) << "pending: it goes where the retry sends it";

  EXPECT_EQ(dispatch(r.request_id, r.daemon_id, "session-a"), Dispatch::elsewhere)
      << "the first attempt's daemon, handed the first attempt's message, must not run it";
  EXPECT_EQ(dispatch(r.request_id, retry.daemon_id, "session-b"), Dispatch::send);
  ToolRequestRecord again = r;  // a third attempt back on the first daemon
  auto stays = store(again);
  ASSERT_TRUE(stays.has_value());
  EXPECT_EQ(stays->daemon_id, retry.daemon_id) << "received by B: it stays with B";

  ToolRequestRecord other = r;  // the same id from another user is refused, not moved
  other.user_id = "u-o";
  auto taken = store(other);
  ASSERT_FALSE(taken.has_value());
  EXPECT_EQ(taken.error().code, ErrorCode::invalid_argument);
}

// Inserts row k; `fail_after_insert` then fails the body, `as_last` makes the insert the body's
// last statement (SqlTransaction::query_last).
Task<void> insert_row(Store& store, std::int64_t k, bool fail_after_insert, int* errors,
                      bool as_last = false) {
  RELIANT_ASSERT(!(fail_after_insert && as_last));
  TransactionBody body = [k, fail_after_insert, as_last](SqlTransaction& tx) -> Result<void> {
    const char* insert = "INSERT INTO g (k) VALUES ($1) RETURNING k";
    if (auto r = as_last ? tx.query_last(insert, {k}) : tx.query(insert, {k}); !r)
      return fail(r.error());
    if (fail_after_insert)
      return fail(ErrorCode::failed_precondition, "body " + std::to_string(k) + " says no");
    return {};
  };
  Task<Result<void>> pending = store.transact(std::move(body));
  Result<void> done = co_await pending;
  if (!done) {
    EXPECT_EQ(done.error().message, "body " + std::to_string(k) + " says no");
    ++*errors;
  }
}

// Bodies submitted together share transactions; a failing body is rolled back alone.
TEST_P(StoreConformance, GroupCommitSharesTransactionsAndIsolatesFailures) {
  ASSERT_TRUE(exec("CREATE TABLE g (k BIGINT PRIMARY KEY)"));
  GroupCommitStore grouped(*store_, executor_, GroupCommitOptions{8, 1});
  int errors = 0;
  {
    Scope scope(executor_);
    for (std::int64_t k = 0; k < 40; ++k) scope.spawn(insert_row(grouped, k, k % 5 == 0, &errors));
    executor_.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  EXPECT_EQ(errors, 8);
  auto rows = query("SELECT COUNT(*) AS inserted, MIN(k) AS lowest FROM g");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  EXPECT_EQ(first_record(*rows).integer("inserted"), 32);
  EXPECT_EQ(first_record(*rows).integer("lowest"), 1)
      << "row 0's body failed: its insert was rolled back";
  EXPECT_EQ(grouped.bodies(), 40u);
  EXPECT_LT(grouped.batches(), 10u) << "40 bodies at once should need few transactions";
  EXPECT_GT(grouped.reruns(), 0u) << "batches with a failing body are rerun with savepoints";
}

// A body's last statement (SqlTransaction::query_last) may run as a transaction of its own, but
// not inside a batch with other bodies: there it would commit before the batch, and the batch's
// rerun with savepoints would run it again (a duplicate key here).
TEST_P(StoreConformance, GroupCommitKeepsALastStatementInsideItsBatch) {
  ASSERT_TRUE(exec("CREATE TABLE g (k BIGINT PRIMARY KEY)"));
  GroupCommitStore grouped(*store_, executor_, GroupCommitOptions{8, 1});
  int errors = 0;
  {
    Scope scope(executor_);
    // Body 0 leaves alone; 1, 2 and 3 queue behind it as one batch, which 2 fails.
    scope.spawn(insert_row(grouped, 0, false, &errors, true));
    scope.spawn(insert_row(grouped, 1, false, &errors, true));
    scope.spawn(insert_row(grouped, 2, true, &errors));
    scope.spawn(insert_row(grouped, 3, false, &errors, true));
    executor_.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  EXPECT_EQ(errors, 1) << "only body 2 fails";
  EXPECT_EQ(grouped.batches(), 2u);
  EXPECT_EQ(grouped.reruns(), 1u);
  auto rows = query("SELECT COUNT(*) AS inserted, SUM(k) AS total FROM g");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  EXPECT_EQ(first_record(*rows).integer("inserted"), 3);
  EXPECT_EQ(first_record(*rows).integer("total"), 4);
}

// A body that holds a row lock for a while on Postgres (SQLite's one writer never waits).
TransactionBody lock_then_linger(SqlDialect dialect, std::int64_t k, bool linger) {
  return [dialect, k, linger](SqlTransaction& tx) -> Result<void> {
    if (auto r = tx.execute("UPDATE d SET n = n + 1 WHERE k = $1", {k}); !r) return fail(r.error());
    if (linger && dialect == SqlDialect::postgres) {
      if (auto r = tx.query("SELECT pg_sleep(0.2) AS slept", {}); !r) return fail(r.error());
    }
    return {};
  };
}

Task<void> submit(Store& store, TransactionBody body, int* failures) {
  Task<Result<void>> pending = store.transact(std::move(body));
  Result<void> done = co_await pending;
  if (!done) ++*failures;
}

// Two batches that deadlock each other: batch A updates row 1 then row 2, batch B row 2 then
// row 1 (each body alone takes one lock). Postgres breaks the deadlock by rolling one back; its
// bodies run again (with savepoints, or alone) and succeed: no caller sees the batches' quarrel.
TEST_P(StoreConformance, GroupCommitSurvivesTwoBatchesThatDeadlockEachOther) {
  ASSERT_TRUE(exec("CREATE TABLE d (k BIGINT PRIMARY KEY, n BIGINT NOT NULL)"));
  ASSERT_TRUE(exec("INSERT INTO d (k, n) VALUES (1, 0), (2, 0), (3, 0), (4, 0)"));
  GroupCommitStore grouped(
      *store_, executor_,
      GroupCommitOptions{.batch_max = 2, .in_flight_max = 2, .overlap_batch = 1});
  const SqlDialect dialect = store_->dialect();
  int failures = 0;
  {
    Scope scope(executor_);
    // Both slots busy first, so the next four bodies queue and leave as two batches of two (an
    // overlap batch of one lets the second slot open for any queue).
    scope.spawn(submit(grouped, lock_then_linger(dialect, 3, true), &failures));
    scope.spawn(submit(grouped, lock_then_linger(dialect, 4, true), &failures));
    scope.spawn(submit(grouped, lock_then_linger(dialect, 1, true), &failures));   // A
    scope.spawn(submit(grouped, lock_then_linger(dialect, 2, false), &failures));  // A
    scope.spawn(submit(grouped, lock_then_linger(dialect, 2, true), &failures));   // B
    scope.spawn(submit(grouped, lock_then_linger(dialect, 1, false), &failures));  // B
    executor_.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  EXPECT_EQ(failures, 0);
  auto rows = query("SELECT SUM(n) AS total, MIN(n) AS least FROM d WHERE k IN (1, 2)");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  EXPECT_EQ(first_record(*rows).integer("total"), 4) << "every body's update committed once";
  EXPECT_EQ(first_record(*rows).integer("least"), 2);
  if (dialect == SqlDialect::postgres) {
    EXPECT_GE(grouped.reruns() + grouped.alone(), 1u) << "the deadlock was never seen";
  }
}

// A Store whose n-th transaction the database refuses before running it (a connection lost as
// the transaction began): nothing of it happened.
class RefusesOne final : public Store {
 public:
  RefusesOne(Store& inner, int refused) : inner_(inner), refused_(refused) {}
  SqlDialect dialect() const override { return inner_.dialect(); }
  Task<Result<void>> transact(TransactionBody body) override {
    if (++seen_ == refused_) co_return fail(ErrorCode::unavailable, "connection lost");
    Task<Result<void>> pending = inner_.transact(std::move(body));
    Result<void> done = co_await pending;
    co_return done;
  }

 private:
  Store& inner_;
  int refused_;
  int seen_ = 0;
};

// A refused batch is no body's failure: each runs again alone.
TEST_P(StoreConformance, GroupCommitRunsTheBodiesOfARefusedBatchAlone) {
  ASSERT_TRUE(exec("CREATE TABLE g (k BIGINT PRIMARY KEY)"));
  RefusesOne refusing(*store_, 2);
  GroupCommitStore grouped(refusing, executor_, GroupCommitOptions{8, 1});
  int errors = 0;
  {
    Scope scope(executor_);
    // Body 0 leaves alone at once; the other eight queue behind it as the refused batch.
    for (std::int64_t k = 0; k < 9; ++k) scope.spawn(insert_row(grouped, k, false, &errors));
    executor_.run_until([&scope] { return scope.live_tasks() == 0; });
  }
  EXPECT_EQ(errors, 0);
  auto rows = query("SELECT COUNT(*) AS inserted FROM g");
  ASSERT_TRUE(rows.has_value()) << rows.error().message;
  EXPECT_EQ(first_record(*rows).integer("inserted"), 9);
  EXPECT_EQ(grouped.batches(), 2u);
  EXPECT_EQ(grouped.alone(), 8u);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreConformance, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
