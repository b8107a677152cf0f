// Messages sent to one chat at the same moment, on SQLite and Postgres: a chat answers one
// message at a time, so exactly one send starts a run and the others hear that the chat is still
// answering (failed_precondition) — not a unique-key error from two messages taking one ordinal,
// and never a second run on the chat.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "adapters/asio/run_blocking.h"
#include "adapters/memory/in_process_bus.h"
#include "runtime/random.h"
#include "runtime/scope.h"
#include "services/agent/chat_service.h"
#include "services/storage/accounts.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

class ConcurrentSends : public testing_store::MigratedBackendTest {
 protected:
  void SetUp() override {
    MigratedBackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(transact([](SqlTransaction& tx) {
                  return insert_user(tx, User{"u1", "u1@example.com", "", 1});
                }).has_value());
  }

  // Sends `n` messages to `chat_id` at once and returns every send's outcome.
  std::vector<Result<agent::SentMessage>> send_at_once(agent::ChatService& chats,
                                                       const std::string& chat_id, int n) {
    std::vector<Result<agent::SentMessage>> outcomes;
    {
      Scope scope(executor_);
      for (int i = 0; i < n; ++i) {
        scope.spawn([](agent::ChatService& service, std::string chat, int index, int total,
                       std::vector<Result<agent::SentMessage>>& out,
                       AsioExecutor& executor) -> Task<void> {
          Task<Result<agent::SentMessage>> sending = service.send_message(
              "u1", chat, "message " + std::to_string(index), agent::SendOptions{});
          out.push_back(co_await sending);
          if (static_cast<int>(out.size()) == total) executor.stop();
        }(chats, chat_id, i, n, outcomes, executor_));
      }
      executor_.run();
    }
    return outcomes;
  }

  std::int64_t count(const std::string& sql, const std::string& chat_id) {
    auto n = std::make_shared<std::int64_t>(-1);
    EXPECT_TRUE(transact([&](SqlTransaction& tx) -> Result<void> {
                  auto rows = tx.query(sql, {chat_id});
                  if (!rows) return fail(rows.error());
                  *n = std::get<std::int64_t>(rows->rows.at(0).at(0));
                  return {};
                }).has_value());
    return *n;
  }
};

TEST_P(ConcurrentSends, OneOfTheMessagesSentToAChatAtOnceStartsARunAndTheOthersHearItIsBusy) {
  InProcessBroker broker;
  InProcessBus bus(broker, executor_);
  Random random(1);
  Env env{executor_, random, &bus, nullptr, store_.get()};
  agent::ChatService chats(env, agent::ChatServiceConfig{});
  auto chat = run_blocking(executor_, chats.create_chat("u1", "busy"));
  ASSERT_TRUE(chat.has_value()) << chat.error().message;

  constexpr int kSends = 6;
  const auto outcomes = send_at_once(chats, chat->id, kSends);
  ASSERT_EQ(outcomes.size(), static_cast<std::size_t>(kSends));
  int started = 0;
  for (const auto& outcome : outcomes) {
    if (outcome) {
      ++started;
      continue;
    }
    EXPECT_EQ(outcome.error().code, ErrorCode::failed_precondition) << outcome.error().message;
    EXPECT_NE(outcome.error().message.find("still answering"), std::string::npos)
        << outcome.error().message;
  }
  EXPECT_EQ(started, 1);
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE chat_id = $1", chat->id), 1);
  EXPECT_EQ(
      count("SELECT COUNT(*) FROM workflow_runs WHERE input_json LIKE '%' || $1 || '%'", chat->id),
      1);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConcurrentSends, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
