// Threads read through the worker's conversation cache: after any appends (other workers', a
// summary, a fork's own messages) a cached read equals a full read; a thread not recorded yet is
// never kept; a request that holds the conversation is not changed by the next read.
#include "services/agent/conversation_cache.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/storage/accounts.h"
#include "services/storage/chats.h"
#include "services/storage/migrator.h"
#include "services/storage/sql_row.h"
#include "services/storage/threads.h"
#include "sim/one_node.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

struct Chat : sim::OneNode {
  ConversationCache cache;
  int stored = 0;

  Chat() : OneNode(3, 4, "worker") {
    EXPECT_TRUE(run(migrate_up(store, world.now())).has_value());
    EXPECT_TRUE(write([](SqlTransaction& tx) -> Result<void> {
      if (auto ok = insert_user(tx, User{"u1", "u1@example.com", "", 0}); !ok) return ok;
      ChatRecord chat;
      chat.id = "c1";
      chat.user_id = "u1";
      chat.title = "t";
      return insert_chat(tx, chat);
    }));
  }
  bool write(TransactionBody body) {
    auto done = database.database().transact(std::move(body));
    EXPECT_TRUE(done.has_value()) << done.error().message;
    return done.has_value();
  }
  // Appends a message to `thread` (recording the thread first, as a node does).
  void say(const std::string& thread, const std::string& text, bool summary = false,
           std::optional<std::string> from = std::nullopt) {
    MessageRecord m;
    m.id = "m" + std::to_string(++stored);
    m.chat_id = "c1";
    m.thread = thread;
    m.role = summary ? "system" : "user";
    Json body = {{"text", text}};
    if (summary) body["summary"] = true;
    m.blocks.push_back({"text", body});
    write([m, thread, from](SqlTransaction& tx) -> Result<void> {
      if (auto ok = ensure_thread(tx, "c1", ThreadRef{thread, from}, 1); !ok)
        return fail(ok.error());
      auto inserted = insert_message_once(tx, SqlDialect::sqlite, m);
      if (!inserted) return fail(inserted.error());
      return {};
    });
  }
  std::vector<std::string> full(const std::string& thread) {
    std::vector<std::string> ids;
    write([&](SqlTransaction& tx) -> Result<void> {
      auto all = load_thread(tx, "c1", thread);
      if (!all) return fail(all.error());
      for (const auto& m : *all) ids.push_back(m.id);
      return {};
    });
    return ids;
  }
  // Reads through the cache and keeps the result, as a node does.
  std::vector<std::string> cached(const std::string& thread) {
    auto read = run(read_thread(cache, store, "c1", thread));
    EXPECT_TRUE(read.has_value());
    std::vector<std::string> ids;
    for (const auto& m : read->messages) ids.push_back(m.id);
    EXPECT_EQ(read->conversation->size(), read->messages.size());
    cache.put("c1", thread, std::move(*read));
    return ids;
  }
};

TEST(ConversationCache, ACachedReadEqualsAFullReadAfterAppendsAndSummaries) {
  Chat chat;
  chat.say("", "one");
  chat.say("", "two");
  EXPECT_EQ(chat.cached(""), chat.full(""));
  chat.say("", "three");  // as another worker would
  EXPECT_EQ(chat.cached(""), chat.full(""));
  EXPECT_EQ(chat.cached("").size(), 3u);
  chat.say("", "summary of one to three", true);
  chat.say("", "four");
  EXPECT_EQ(chat.cached(""), chat.full(""));
  EXPECT_EQ(chat.cached(""), (std::vector<std::string>{"m4", "m5"}));
  EXPECT_EQ(chat.cache.size(), 1u);
}

TEST(ConversationCache, AForkKeepsWhatItInheritedAndReadsOnlyItsOwnMessages) {
  Chat chat;
  chat.say("", "before the fork");
  chat.say("f", "on the fork", false, std::string(""));
  chat.say("", "after the fork: not the fork's");
  EXPECT_EQ(chat.cached("f"), chat.full("f"));
  chat.say("f", "more on the fork", false, std::string(""));
  chat.say("", "main again");
  EXPECT_EQ(chat.cached("f"), chat.full("f"));
  EXPECT_EQ(chat.cached("f"), (std::vector<std::string>{"m1", "m2", "m4"}));
}

TEST(ConversationCache, AThreadNotRecordedYetIsNotKept) {
  Chat chat;
  chat.say("", "main");
  EXPECT_TRUE(chat.cached("later-fork").empty());
  EXPECT_EQ(chat.cache.size(), 0u) << "its inheritance is decided when it is first used";
  chat.say("later-fork", "first", false, std::string(""));
  EXPECT_EQ(chat.cached("later-fork"), chat.full("later-fork"));
  EXPECT_EQ(chat.cached("later-fork").size(), 2u);
}

// A statement read along the thread (a model call's daemons) is read once a read, whatever the
// thread: with the messages where they are one statement, on its own before a fork's.
TEST(ConversationCache, AStatementAlongTheThreadIsReadOnceWithEveryRead) {
  Chat chat;
  chat.say("", "before the fork");
  chat.say("f", "on the fork", false, std::string(""));
  int along_reads = 0;
  std::string title;
  const auto read_along = [&](const std::string& thread) {
    AlongTheThread along{{"SELECT title FROM chats WHERE id = $1", {std::string("c1")}},
                         [&](SqlTransaction&, const SqlRows& rows) -> Result<void> {
                           ++along_reads;
                           title = first_record(rows).text("title");
                           return {};
                         }};
    auto read = chat.run(read_thread(chat.cache, chat.store, "c1", thread, {}, along));
    EXPECT_TRUE(read.has_value());
    std::vector<std::string> ids;
    for (const auto& m : read->messages) ids.push_back(m.id);
    chat.cache.put("c1", thread, std::move(*read));
    return ids;
  };
  EXPECT_EQ(read_along(""), chat.full(""));  // the main thread, unknown
  chat.say("", "more");
  EXPECT_EQ(read_along(""), chat.full(""));    // known
  EXPECT_EQ(read_along("f"), chat.full("f"));  // a fork, unknown: its own statements
  chat.say("f", "more on the fork", false, std::string(""));
  EXPECT_EQ(read_along("f"), chat.full("f"));  // known
  EXPECT_EQ(along_reads, 4);
  EXPECT_EQ(title, "t");
}

TEST(ConversationCache, ARequestHoldingTheConversationIsNotChangedByTheNextRead) {
  Chat chat;
  chat.say("", "one");
  auto first = chat.run(read_thread(chat.cache, chat.store, "c1", ""));
  ASSERT_TRUE(first.has_value());
  std::shared_ptr<const std::vector<llm::Message>> held = first->conversation;  // a request
  chat.cache.put("c1", "", std::move(*first));
  chat.say("", "two");
  EXPECT_EQ(chat.cached("").size(), 2u);
  EXPECT_EQ(held->size(), 1u) << "copied before the change, not changed under the request";
}

}  // namespace
}  // namespace reliant::agent
