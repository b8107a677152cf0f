// CredentialWatches on the simulated store and bus: an announced revocation ends a stream's
// watch at once, a lost one within a recheck, an expiry at its time; one transaction per
// recheck however many streams watch; and a watch may outlive its server's watches.
#include "services/api/credential_watch.h"

#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <vector>

#include "core/tool_subjects.h"
#include "services/storage/accounts.h"
#include "services/storage/migrator.h"
#include "sim/one_node.h"

namespace reliant::api {
namespace {

constexpr Duration kRecheck = seconds(10);

struct Watches : sim::OneNode {
  CredentialWatches watches{env, kRecheck};

  Watches() : OneNode(5, 9, "api") {
    EXPECT_TRUE(run(migrate_up(store, world.now())).has_value());
    add_token("alice", "tok-a");
    add_token("alice", "tok-b");
  }

  void add_token(const std::string& user, const std::string& token_id) {
    std::array<std::uint8_t, kPatRandomBytes> secret{};
    secret[0] = static_cast<std::uint8_t>(token_id.back());
    const NewToken token = make_token(secret, token_id, user, "test", 0);
    auto made = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      if (token_id == "tok-a") {
        if (auto ok = insert_user(tx, User{user, user + "@example.com", "", 0}); !ok) return ok;
      }
      return insert_new_token(tx, token);
    });
    ASSERT_TRUE(made.has_value()) << made.error().message;
  }
  // Revoked in the store only: the announcement is lost.
  void revoke_quietly(const std::string& token_id) {
    auto revoked = database.database().transact(
        [&](SqlTransaction& tx) { return revoke_token(tx, token_id, to_ms(world.now())); });
    ASSERT_TRUE(revoked.has_value());
  }
  void announce(const std::string& user, const std::string& token_id) {
    ASSERT_TRUE(bus.publish(subjects::credential_revoked(user), token_id).has_value());
  }
  std::unique_ptr<CredentialWatch> watch(Credential credential, int* ended = nullptr) {
    auto made = watches.watch(std::move(credential), [ended] {
      if (ended != nullptr) ++*ended;
    });
    EXPECT_TRUE(made.has_value());
    return std::move(*made);
  }
  void advance(Duration by) { world.run_until(world.now() + by); }
};

TEST(CredentialWatches, AnAnnouncedRevocationEndsTheWatchesOfThatTokenAtOnce) {
  Watches w;
  int ended_a = 0;
  int ended_b = 0;
  auto a = w.watch({"alice", "tok-a", {}}, &ended_a);
  auto b = w.watch({"alice", "tok-b", {}}, &ended_b);
  w.advance(seconds(1));
  w.announce("alice", "tok-a");
  w.advance(milliseconds(100));
  EXPECT_TRUE(a->ended());
  EXPECT_EQ(a->why(), "revoked");
  EXPECT_EQ(ended_a, 1);
  EXPECT_FALSE(b->ended()) << "another token of the same user still holds";
  EXPECT_EQ(ended_b, 0);
  w.announce("alice", "tok-a");  // again: on_ended runs once
  w.advance(milliseconds(100));
  EXPECT_EQ(ended_a, 1);
}

TEST(CredentialWatches, ALostAnnouncementIsMadeUpForWithinOneRecheck) {
  Watches w;
  int ended = 0;
  auto a = w.watch({"alice", "tok-a", {}}, &ended);
  auto b = w.watch({"alice", "tok-b", {}});
  w.advance(seconds(1));
  w.revoke_quietly("tok-a");
  w.advance(kRecheck - seconds(2));
  EXPECT_FALSE(a->ended()) << "no recheck yet";
  w.advance(seconds(2));
  EXPECT_TRUE(a->ended());
  EXPECT_EQ(a->why(), "revoked");
  EXPECT_EQ(ended, 1);
  EXPECT_FALSE(b->ended());
}

TEST(CredentialWatches, AnExpiringCredentialEndsAtItsExpiry) {
  Watches w;
  const std::int64_t expires_ms = to_ms(w.world.now()) + 3'500;
  auto jwt = w.watch({"alice", "", expires_ms});
  w.advance(milliseconds(3'400));
  EXPECT_FALSE(jwt->ended());
  w.advance(milliseconds(200));
  EXPECT_TRUE(jwt->ended());
  EXPECT_EQ(jwt->why(), "expired");
}

TEST(CredentialWatches, ManyStreamsShareOneTransactionPerRecheck) {
  Watches w;
  std::vector<std::unique_ptr<CredentialWatch>> streams;
  for (int i = 0; i < 50; ++i) streams.push_back(w.watch({"alice", i % 2 ? "tok-a" : "tok-b", {}}));
  EXPECT_EQ(w.watches.watched(), 50u);
  w.advance(kRecheck * 3 + seconds(1));
  EXPECT_EQ(w.watches.rechecks(), 3u) << "one transaction per recheck, not one per stream";
  w.revoke_quietly("tok-b");
  w.advance(kRecheck);
  int ended = 0;
  for (const auto& s : streams) ended += s->ended() ? 1 : 0;
  EXPECT_EQ(ended, 25);
  streams.clear();
  EXPECT_EQ(w.watches.watched(), 0u);
  const std::uint64_t before = w.watches.rechecks();
  w.advance(kRecheck * 3);
  EXPECT_EQ(w.watches.rechecks(), before) << "nothing watched: no more transactions";
}

TEST(CredentialWatches, AWatchMayOutliveTheWatchesThatMadeIt) {
  Watches w;
  auto watches = std::make_unique<CredentialWatches>(w.env, kRecheck);
  auto made = watches->watch({"alice", "tok-a", {}}, [] {});
  ASSERT_TRUE(made.has_value());
  std::unique_ptr<CredentialWatch> stream = std::move(*made);
  watches.reset();
  w.announce("alice", "tok-a");
  w.advance(kRecheck * 2);
  EXPECT_FALSE(stream->ended()) << "no longer told anything";
  stream.reset();  // and its destruction touches nothing freed
}

}  // namespace
}  // namespace reliant::api
