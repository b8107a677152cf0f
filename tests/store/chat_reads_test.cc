// The reads a chat's message and a model call send together (query_together), on SQLite and
// Postgres: the chat and the presets its run starts under, whose project the statement finds
// from the chat itself and only among the asking user's chats; and a chat's daemons, read as
// list_daemons_for_chat reads them.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/storage/accounts.h"
#include "services/storage/chats.h"
#include "services/storage/daemons.h"
#include "services/storage/presets.h"
#include "services/storage/projects.h"
#include "store/store_backend.h"

namespace reliant {
namespace {

class ChatReads : public testing_store::MigratedBackendTest {
 protected:
  void SetUp() override {
    MigratedBackendTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                  for (const char* user : {"u1", "u2"}) {
                    if (auto ok =
                            insert_user(tx, User{user, std::string(user) + "@example.com", "", 1});
                        !ok)
                      return ok;
                  }
                  for (const char* project : {"p1", "p2"}) {
                    ProjectRecord record;
                    record.id = project;
                    record.user_id = "u1";
                    record.name = project;
                    record.path = std::string("/w/") + project;
                    if (auto ok = insert_project(tx, record); !ok) return ok;
                  }
                  const std::vector<ChatRecord> chats = {
                      chat("plain", "u1", ""), chat("in-p1", "u1", "p1"), chat("theirs", "u2", "")};
                  for (const auto& c : chats) {
                    if (auto ok = insert_chat(tx, c); !ok) return ok;
                  }
                  const std::vector<PresetRecord> presets = {
                      preset("u1", "", "alpha"), preset("u1", "p1", "beta"),
                      preset("u1", "p2", "gamma"), preset("u2", "", "delta")};
                  for (const auto& p : presets) {
                    if (auto ok = put_preset(tx, p); !ok) return fail(ok.error());
                  }
                  return {};
                }).has_value());
  }

  static ChatRecord chat(std::string id, std::string user, std::string project) {
    ChatRecord c;
    c.id = std::move(id);
    c.user_id = std::move(user);
    c.project_id = std::move(project);
    return c;
  }
  static PresetRecord preset(std::string user, std::string project, std::string name) {
    PresetRecord p;
    p.id = user + "-" + project + "-" + name;
    p.user_id = std::move(user);
    p.project_id = std::move(project);
    p.source = "name: " + name + "\nparams: {}\n";
    p.name = std::move(name);
    return p;
  }

  // The chat and its presets read together, and the presets list_presets gives for `project`.
  struct Read {
    std::optional<ChatRecord> chat;
    std::vector<std::string> presets;
    std::vector<std::string> listed;
  };
  Read read(const std::string& user, const std::string& chat_id, const std::string& project) {
    Read out;
    auto done = transact([&](SqlTransaction& tx) -> Result<void> {
      auto both =
          tx.query_together({find_chat_statement(chat_id), chat_presets_statement(user, chat_id)});
      if (!both) return fail(both.error());
      auto found = chat_of((*both)[0]);
      if (!found) return fail(found.error());
      out.chat = std::move(*found);
      for (const auto& p : presets_from((*both)[1])) out.presets.push_back(p.id);
      auto listed = list_presets(tx, user, project);
      if (!listed) return fail(listed.error());
      for (const auto& p : *listed) out.listed.push_back(p.id);
      return {};
    });
    EXPECT_TRUE(done.has_value()) << done.error().message;
    return out;
  }
};

TEST_P(ChatReads, AChatsPresetsAreTheUsersAndThoseOfTheChatsProject) {
  const Read plain = read("u1", "plain", "");
  ASSERT_TRUE(plain.chat.has_value());
  EXPECT_EQ(plain.chat->user_id, "u1");
  EXPECT_EQ(plain.presets, (std::vector<std::string>{"u1--alpha"}));
  EXPECT_EQ(plain.presets, plain.listed);

  const Read in_project = read("u1", "in-p1", "p1");
  ASSERT_TRUE(in_project.chat.has_value());
  EXPECT_EQ(in_project.chat->project_id, "p1");
  EXPECT_EQ(in_project.presets, (std::vector<std::string>{"u1--alpha", "u1-p1-beta"}));
  EXPECT_EQ(in_project.presets, in_project.listed);
}

TEST_P(ChatReads, AnotherUsersChatLendsNoProjectAndANoChatReadsAsNone) {
  // The chat is read (the caller refuses it as not theirs); the presets are the asker's own only.
  const Read theirs = read("u1", "theirs", "");
  ASSERT_TRUE(theirs.chat.has_value());
  EXPECT_EQ(theirs.chat->user_id, "u2");
  EXPECT_EQ(theirs.presets, (std::vector<std::string>{"u1--alpha"}));

  const Read none = read("u1", "no-such-chat", "");
  EXPECT_FALSE(none.chat.has_value());
  EXPECT_EQ(none.presets, (std::vector<std::string>{"u1--alpha"}));
}

TEST_P(ChatReads, AChatsDaemonsReadTogetherAreWhatListDaemonsForChatReads) {
  ASSERT_TRUE(transact([](SqlTransaction& tx) -> Result<void> {
                DaemonRecord daemon;
                daemon.id = "d1";
                daemon.user_id = "u1";
                daemon.name = "laptop";
                daemon.status = DaemonStatus::active;
                daemon.connection_id = "c1";
                daemon.connected_at_ms = 1;
                if (auto ok = record_daemon_connected(tx, daemon); !ok) return ok;
                auto set = tx.execute("UPDATE chats SET active_daemon_id = $2 WHERE id = $1",
                                      {std::string("plain"), std::string("d1")});
                if (!set) return fail(set.error());
                return {};
              }).has_value());
  for (const std::string user : {"u1", "u2"}) {
    auto done = transact([&](SqlTransaction& tx) -> Result<void> {
      const std::string chat_id = user == "u1" ? "plain" : "theirs";
      auto both = tx.query_together(
          {daemons_for_chat_statement(user, chat_id), find_chat_statement(chat_id)});
      if (!both) return fail(both.error());
      auto together = chat_daemons_from(tx, chat_id, (*both)[0]);
      if (!together) return fail(together.error());
      auto alone = list_daemons_for_chat(tx, user, chat_id);
      if (!alone) return fail(alone.error());
      EXPECT_EQ(together->chat_daemon_id, alone->chat_daemon_id);
      EXPECT_EQ(together->chat_daemon_id, user == "u1" ? "d1" : "");
      EXPECT_EQ(together->daemons.size(), alone->daemons.size());
      EXPECT_EQ(together->daemons.size(), user == "u1" ? 1u : 0u);
      return {};
    });
    EXPECT_TRUE(done.has_value()) << done.error().message;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, ChatReads, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reliant
