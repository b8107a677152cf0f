// Triggers' firings on SQLite and Postgres (services/triggers/trigger_firing.h): a firing is
// recorded once per (trigger, key) and starts at most one run, however often it is attempted;
// overlap skips, queues or cancels around a run still going; a filter that does not hold skips,
// one that cannot evaluate fails, saying why; a declared trigger follows its workflow's
// declaration and fails when the declaration is gone; a deleted trigger's firings stay.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "services/engine/engine_sql.h"
#include "services/storage/triggers.h"
#include "services/triggers/trigger_firing.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

class TriggerFirings : public testing_store::MigratedBackendTest {
 protected:
  void SetUp() override {
    MigratedBackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(add_users({"u1"}).has_value());
  }

  triggers::FiringEnv env() {
    return triggers::FiringEnv{store_->dialect(), "q", "", nullptr,
                               [this] { return "id" + std::to_string(++ids_); }};
  }

  // A schedule trigger of builtin://agent with `spec` as its schedule.
  TriggerRecord schedule(const std::string& id, Json spec) {
    TriggerRecord t;
    t.id = id;
    t.user_id = "u1";
    t.name = id;
    t.kind = TriggerKind::schedule;
    t.workflow = "builtin://agent";
    t.spec = Json{{"name", id}, {"schedule", std::move(spec)}};
    t.message = "look around";
    t.anchor_ms = t.considered_ms = t.created_at_ms = t.updated_at_ms = 1;
    EXPECT_TRUE(transact([&](SqlTransaction& tx) { return insert_trigger(tx, t); }).has_value());
    return t;
  }

  triggers::Fired fire(const TriggerRecord& trigger, const std::string& key, bool manual = false,
                       Json payload = Json::object()) {
    auto out = std::make_shared<triggers::Fired>();
    auto done = transact([&](SqlTransaction& tx) -> Result<void> {
      auto fired = triggers::fire_trigger(
          tx, env(), trigger,
          triggers::FireRequest{key, "schedule", 1'000, std::move(payload), manual, 2'000});
      if (!fired) return fail(fired.error());
      *out = std::move(*fired);
      return {};
    });
    EXPECT_TRUE(done.has_value()) << done.error().message;
    return *out;
  }

  std::int64_t count(const std::string& sql) {
    auto n = std::make_shared<std::int64_t>(-1);
    EXPECT_TRUE(transact([&](SqlTransaction& tx) -> Result<void> {
                  auto rows = tx.query(sql, {});
                  if (!rows) return fail(rows.error());
                  *n = std::get<std::int64_t>(rows->rows.at(0).at(0));
                  return {};
                }).has_value());
    return *n;
  }

  void close_run(const std::string& run_id) {
    ASSERT_TRUE(
        transact([&](SqlTransaction& tx) -> Result<void> {
          auto done = tx.execute(
              "UPDATE workflow_runs SET status = 'completed', closed_at_ms = 5 WHERE id = $1",
              {run_id});
          if (!done) return fail(done.error());
          return {};
        }).has_value());
  }

  int ids_ = 0;
};

TEST_P(TriggerFirings, AFiringIsRecordedOnceAndStartsOneRunHoweverOftenItIsAttempted) {
  const auto trigger = schedule("t1", Json{{"interval", "2s"}});
  const auto first = fire(trigger, "at:1000");
  ASSERT_EQ(first.firing.status, FiringStatus::launched) << first.firing.detail;
  EXPECT_FALSE(first.duplicate);
  EXPECT_FALSE(first.firing.run_id.empty());
  EXPECT_FALSE(first.firing.chat_id.empty());
  const auto again = fire(trigger, "at:1000");
  EXPECT_TRUE(again.duplicate);
  EXPECT_EQ(again.firing.run_id, first.firing.run_id);
  EXPECT_EQ(count("SELECT COUNT(*) FROM workflow_runs"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM trigger_firings"), 1);
  // The run carries the trigger and its firing, and its chat the trigger's message.
  EXPECT_EQ(
      count("SELECT COUNT(*) FROM workflow_runs WHERE input_json LIKE '%\"trigger_id\":\"t1\"%'"),
      1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages"), 1);
}

TEST_P(TriggerFirings, OverlapSkipsQueuesOrCancelsAroundARunStillGoing) {
  const auto skipping = schedule("skip", Json{{"interval", "2s"}});
  const auto running = fire(skipping, "at:1000");
  const auto skipped = fire(skipping, "at:3000");
  EXPECT_EQ(skipped.firing.status, FiringStatus::skipped);
  EXPECT_NE(skipped.firing.detail.find("still running (overlap: skip)"), std::string::npos);
  // A manual fire goes on beside it.
  EXPECT_EQ(fire(skipping, "manual:1", true).firing.status, FiringStatus::launched);

  const auto queueing = schedule("queue", Json{{"interval", "2s"}, {"overlap", "queue"}});
  const auto before = fire(queueing, "at:1000");
  const auto queued = fire(queueing, "at:3000");
  ASSERT_EQ(queued.firing.status, FiringStatus::queued);
  close_run(before.firing.run_id);
  auto launched = std::make_shared<FiringRecord>();
  ASSERT_TRUE(transact([&](SqlTransaction& tx) -> Result<void> {
                auto out = triggers::launch_queued(tx, env(), queueing, queued.firing, 6'000);
                if (!out) return fail(out.error());
                *launched = std::move(*out);
                return {};
              }).has_value());
  EXPECT_EQ(launched->status, FiringStatus::launched);
  EXPECT_FALSE(launched->run_id.empty());

  const auto cancelling = schedule("cancel", Json{{"interval", "2s"}, {"overlap", "cancel"}});
  const auto old = fire(cancelling, "at:1000");
  EXPECT_EQ(fire(cancelling, "at:3000").firing.status, FiringStatus::launched);
  EXPECT_EQ(count("SELECT COUNT(*) FROM workflow_history WHERE run_id = '" + old.firing.run_id +
                  "' AND kind = 'cancel_requested'"),
            1);
  (void)running;
}

TEST_P(TriggerFirings, AFilterThatDoesNotHoldSkipsAndOneThatCannotEvaluateFails) {
  TriggerRecord hook;
  hook.id = "hook";
  hook.user_id = "u1";
  hook.name = "hook";
  hook.kind = TriggerKind::webhook;
  hook.workflow = "builtin://agent";
  hook.spec = Json{{"name", "hook"},
                   {"webhook", Json::object()},
                   {"filter", "trigger.payload.body.ref == 'main'"},
                   {"prompt", "Build {{ trigger.payload.body.ref }}"}};
  ASSERT_TRUE(transact([&](SqlTransaction& tx) { return insert_trigger(tx, hook); }).has_value());
  const auto matched = fire(hook, "d1", false, Json{{"body", {{"ref", "main"}}}});
  EXPECT_EQ(matched.firing.status, FiringStatus::launched) << matched.firing.detail;
  const auto other = fire(hook, "d2", false, Json{{"body", {{"ref", "dev"}}}});
  EXPECT_EQ(other.firing.status, FiringStatus::skipped);
  EXPECT_NE(other.firing.detail.find("filter did not match"), std::string::npos);
  const auto broken = fire(hook, "d3", false, Json{{"headers", Json::object()}});
  EXPECT_EQ(broken.firing.status, FiringStatus::failed);
  EXPECT_NE(broken.firing.detail.find("has("), std::string::npos) << broken.firing.detail;
  EXPECT_EQ(count("SELECT COUNT(*) FROM workflow_runs"), 1);
}

TEST_P(TriggerFirings, ADeclaredTriggerWhoseDeclarationIsGoneFailsSayingSo) {
  TriggerRecord declared = schedule("declared", Json{{"interval", "2s"}});
  declared.declaration = "nightly";
  ASSERT_TRUE(
      transact([&](SqlTransaction& tx) { return update_trigger(tx, declared); }).has_value());
  const auto fired = fire(declared, "at:1000");
  EXPECT_EQ(fired.firing.status, FiringStatus::failed);
  EXPECT_NE(fired.firing.detail.find("no longer declares the trigger 'nightly'"), std::string::npos)
      << fired.firing.detail;
}

TEST_P(TriggerFirings, ADeletedTriggersFiringsStayUnattached) {
  const auto trigger = schedule("gone", Json{{"interval", "2s"}});
  fire(trigger, "at:1000");
  ASSERT_TRUE(
      transact([](SqlTransaction& tx) { return delete_trigger(tx, "u1", "gone"); }).has_value());
  EXPECT_EQ(count("SELECT COUNT(*) FROM trigger_firings WHERE trigger_id IS NULL"), 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM triggers"), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, TriggerFirings, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace reliant
