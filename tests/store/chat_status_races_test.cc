// A chat's status when its writers race, on SQLite and Postgres. A chat answers one message at a
// time: of messages sent at the same moment exactly one starts a run and the others hear that the
// chat is still answering (failed_precondition) — not a unique-key error from two messages taking
// one ordinal, and never a second run on the chat. A cancel ends only the run it read: when that
// run ended and a new message started another meanwhile, the chat stays with the new one. A
// message written to a chat that is gone (deleted while its run's last step was under way) is
// not_found on both backends.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "adapters/asio/run_blocking.h"
#include "adapters/memory/in_process_bus.h"
#include "runtime/random.h"
#include "runtime/scope.h"
#include "services/agent/chat_service.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

class ChatStatusRaces : public testing_store::MigratedBackendTest {
 protected:
  void SetUp() override {
    MigratedBackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(add_users({"u1"}).has_value());
    env_.store = store_.get();
    chats_ = std::make_unique<agent::ChatService>(env_, agent::ChatServiceConfig{});
  }

  ChatRecord create_chat(const std::string& title) {
    auto chat = run_blocking(executor_, chats_->create_chat("u1", title));
    EXPECT_TRUE(chat.has_value()) << chat.error().message;
    return chat ? *chat : ChatRecord{};
  }

  // What `sends` messages sent to `chat_id` at once came to, and `writes` assistant messages
  // written to it meanwhile (as a worker's activity writes one).
  struct Raced {
    std::vector<Result<agent::SentMessage>> sends;
    std::vector<Result<void>> writes;
  };
  Raced race(const std::string& chat_id, int sends, int writes) {
    Raced raced;
    const auto total = static_cast<std::size_t>(sends + writes);
    const auto finished = [&raced, total, this] {
      if (raced.sends.size() + raced.writes.size() == total) executor_.stop();
    };
    {
      Scope scope(executor_);
      for (int i = 0; i < sends; ++i) {
        scope.spawn([](agent::ChatService& service, std::string chat, int index, Raced& out,
                       std::function<void()> done) -> Task<void> {
          Task<Result<agent::SentMessage>> sending = service.send_message(
              "u1", chat, "message " + std::to_string(index), agent::SendOptions{});
          out.sends.push_back(co_await sending);
          done();
        }(*chats_, chat_id, i, raced, finished));
      }
      for (int i = 0; i < writes; ++i) {
        MessageRecord message;
        message.id = chat_id + "-written-" + std::to_string(i);
        message.chat_id = chat_id;
        message.role = "assistant";
        message.created_at_ms = 1;
        message.blocks.push_back({"text", {{"text", "an answer"}}});
        scope.spawn([](Store& store, MessageRecord m, Raced& out,
                       std::function<void()> done) -> Task<void> {
          Task<Result<void>> writing =
              store.transact([m, dialect = store.dialect()](SqlTransaction& tx) -> Result<void> {
                auto written = insert_message_once(tx, dialect, m);
                if (!written) return fail(written.error());
                return {};
              });
          out.writes.push_back(co_await writing);
          done();
        }(*store_, std::move(message), raced, finished));
      }
      executor_.run();
    }
    return raced;
  }

  // The chat's status and run, as stored.
  std::pair<std::string, std::string> status_of(const std::string& chat_id) {
    auto out = std::make_shared<std::pair<std::string, std::string>>();
    EXPECT_TRUE(transact([&](SqlTransaction& tx) -> Result<void> {
                  auto chat = find_chat(tx, chat_id);
                  if (!chat) return fail(chat.error());
                  if (!*chat) return fail(ErrorCode::not_found, chat_id);
                  *out = {std::string(to_string((*chat)->status)), (*chat)->workflow_run_id};
                  return {};
                }).has_value());
    return *out;
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

  InProcessBroker broker_;
  InProcessBus bus_{broker_, executor_};
  Random random_{1};
  Env env_{executor_, random_, &bus_, nullptr, nullptr};
  std::unique_ptr<agent::ChatService> chats_;
};

TEST_P(ChatStatusRaces, OneOfTheMessagesSentToAChatAtOnceStartsARunAndTheOthersHearItIsBusy) {
  const ChatRecord chat = create_chat("busy");
  constexpr int kSends = 6;
  const auto outcomes = race(chat.id, kSends, 0).sends;
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
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE chat_id = $1", chat.id), 1);
  EXPECT_EQ(
      count("SELECT COUNT(*) FROM workflow_runs WHERE input_json LIKE '%' || $1 || '%'", chat.id),
      1);
}

// A worker writing a message to a chat that is not running (a cancelled run's last answer) while
// messages are sent to it: the send holds the chat's row from its first read, so a writer that
// took the next ordinal's index entry and then waited for the chat's row deadlocked with a send
// waiting for that entry (Postgres broke it after a second: `unavailable`). Writers take the
// chat's row first; one that finds its ordinal taken meanwhile fails as two writers racing always
// could (already_exists), and its activity is retried.
TEST_P(ChatStatusRaces, MessagesWrittenWhileMessagesAreSentNeitherDeadlockNorFailTheSend) {
  for (int round = 0; round < 5; ++round) {
    const ChatRecord chat = create_chat("round " + std::to_string(round));
    const Raced raced = race(chat.id, 3, 3);
    int started = 0;
    for (const auto& send : raced.sends) {
      if (send) {
        ++started;
        continue;
      }
      EXPECT_EQ(send.error().code, ErrorCode::failed_precondition) << send.error().message;
    }
    EXPECT_EQ(started, 1) << "round " << round;
    std::int64_t written = 0;
    for (const auto& write : raced.writes) {
      if (write) {
        ++written;
        continue;
      }
      EXPECT_EQ(write.error().code, ErrorCode::already_exists) << write.error().message;
    }
    EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE chat_id = $1", chat.id), 1 + written);
  }
}

// The race, made to happen inside the cancel's own transaction: a trigger on the run's
// cancel_requested event moves the chat to another run, as a new message would have had the run
// ended and the chat been answered between the cancel's read of the chat and its write.
TEST_P(ChatStatusRaces, ACancelEndsOnlyTheRunItReadNotOneAMessageStartedSince) {
  const ChatRecord plain = create_chat("plain");
  const ChatRecord raced = create_chat("raced");
  for (const auto& chat : {plain, raced}) {
    auto sent = run_blocking(executor_, chats_->send_message("u1", chat.id, "hello", {}));
    ASSERT_TRUE(sent.has_value()) << sent.error().message;
  }

  // Without a race, a cancel ends the chat's run.
  ASSERT_TRUE(run_blocking(executor_, chats_->cancel("u1", plain.id)).has_value());
  EXPECT_EQ(status_of(plain.id).first, "cancelled");

  const auto before = status_of(raced.id);
  ASSERT_EQ(before.first, "running");
  const std::string move_chat =
      "UPDATE chats SET workflow_run_id = 'started-since', status = 'running' WHERE "
      "workflow_run_id = NEW.run_id";
  ASSERT_TRUE(transact([&](SqlTransaction& tx) -> Result<void> {
                const std::vector<std::string> statements =
                    store_->dialect() == SqlDialect::postgres
                        ? std::vector<std::string>{"CREATE FUNCTION race() RETURNS trigger AS $$ "
                                                   "BEGIN " +
                                                       move_chat +
                                                       "; RETURN NEW; END $$ LANGUAGE plpgsql",
                                                   "CREATE TRIGGER race AFTER INSERT ON "
                                                   "workflow_history FOR EACH ROW WHEN (NEW.kind "
                                                   "= 'cancel_requested') EXECUTE FUNCTION race()"}
                        : std::vector<std::string>{
                              "CREATE TRIGGER race AFTER INSERT ON workflow_history WHEN "
                              "NEW.kind = 'cancel_requested' BEGIN " +
                              move_chat + "; END"};
                for (const auto& sql : statements) {
                  if (auto ok = tx.execute(sql, {}); !ok) return fail(ok.error());
                }
                return {};
              }).has_value());
  ASSERT_TRUE(run_blocking(executor_, chats_->cancel("u1", raced.id)).has_value());
  EXPECT_EQ(status_of(raced.id), (std::pair<std::string, std::string>{"running", "started-since"}))
      << "the cancel ended run " << before.second << " only";
  // Nor does the chat's update stream say it was cancelled (the plain chat's does).
  const std::string cancelled_updates =
      "SELECT COUNT(*) FROM user_events WHERE chat_id = $1 AND kind = 'chat_status' AND "
      "body_json LIKE '%\"cancelled\"%'";
  EXPECT_EQ(count(cancelled_updates, plain.id), 1);
  EXPECT_EQ(count(cancelled_updates, raced.id), 0);
}

TEST_P(ChatStatusRaces, AMessageWrittenToAChatThatIsGoneIsNotFound) {
  MessageRecord message;
  message.id = "orphan";
  message.chat_id = "no-such-chat";
  message.role = "assistant";
  message.created_at_ms = 1;
  message.blocks.push_back({"text", {{"text", "an answer"}}});
  auto written =
      transact([message, dialect = store_->dialect()](SqlTransaction& tx) -> Result<void> {
        auto stored = insert_message_once(tx, dialect, message);
        if (!stored) return fail(stored.error());
        return {};
      });
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code, ErrorCode::not_found) << written.error().message;
  EXPECT_EQ(count("SELECT COUNT(*) FROM messages WHERE chat_id = $1", "no-such-chat"), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, ChatStatusRaces, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
