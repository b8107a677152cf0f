// TextPreviews: a model call's deltas go out once an executor turn, in order, each an update of
// its own; flush() sends at once, a batch past its bounds goes out at once, and what is pending
// when the previews are gone is dropped.
#include "services/agent/text_previews.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/one_node.h"

namespace reliant::agent {
namespace {

// A worker's node, and each announcement heard on user-1's subject: the texts of its updates.
struct Node {
  sim::OneNode one{7, 7, "worker"};
  sim::SimExecutor& executor = one.executor;
  sim::SimBus& bus = one.bus;
  std::vector<std::vector<std::string>> heard;
  SubscriptionPtr listening;

  Node() {
    auto subscribed = bus.subscribe(updates::user_subject("user-1"), [this](const BusMessage& m) {
      auto events = updates::decode_announcement(m.data);
      ASSERT_TRUE(events.has_value()) << events.error().message;
      std::vector<std::string> texts;
      for (const auto& event : *events) {
        EXPECT_EQ(event.kind, "text_delta");
        EXPECT_EQ(event.chat_id, "chat-1");
        EXPECT_EQ(event.seq, 0);  // a preview: never stored
        texts.push_back(event.body.value("text", ""));
      }
      heard.push_back(std::move(texts));
    });
    EXPECT_TRUE(subscribed.has_value());
    listening = std::move(*subscribed);
  }

  // Runs the turns posted so far and every turn they post.
  void run_until_idle() {
    while (one.world.step()) {
    }
  }
};

nlohmann::json delta(const std::string& text) { return {{"message_id", "m-1"}, {"text", text}}; }

// The previews of user-1's chat-1 on a node.
struct TextPreviewsTest : ::testing::Test {
  Node n;
  TextPreviews previews{n.executor, &n.bus, "user-1", "chat-1"};
};

TEST_F(TextPreviewsTest, TheDeltasOfOneTurnGoOutTogetherAtItsEnd) {
  n.executor.post([&] {
    previews.add(delta("one "));
    previews.add(delta("two "));
    previews.add(delta("three"));
  });
  n.run_until_idle();
  n.executor.post([&] { previews.add(delta(" four")); });
  n.run_until_idle();
  ASSERT_EQ(n.heard.size(), 2u);
  EXPECT_EQ(n.heard[0], (std::vector<std::string>{"one ", "two ", "three"}));
  EXPECT_EQ(n.heard[1], (std::vector<std::string>{" four"}));
}

TEST_F(TextPreviewsTest, FlushSendsAtOnceAndItsTurnsPostedFlushThenFindsNothing) {
  n.executor.post([&] {
    previews.add(delta("a"));
    previews.add(delta("b"));
    previews.flush();
    previews.add(delta("c"));
  });
  n.run_until_idle();
  ASSERT_EQ(n.heard.size(), 2u);
  EXPECT_EQ(n.heard[0], (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(n.heard[1], (std::vector<std::string>{"c"}));
}

TEST_F(TextPreviewsTest, ABatchPastItsBoundGoesOutWithoutWaitingForTheTurn) {
  n.executor.post([&] {
    for (int i = 0; i < 100; ++i) previews.add(delta(std::to_string(i)));
  });
  n.run_until_idle();
  ASSERT_EQ(n.heard.size(), 2u);  // 64 at the bound, the other 36 at the turn's end
  EXPECT_EQ(n.heard[0].size(), 64u);
  EXPECT_EQ(n.heard[1].size(), 36u);
  EXPECT_EQ(n.heard[0].front(), "0");
  EXPECT_EQ(n.heard[1].back(), "99");
  // One large delta passes the byte bound alone.
  n.heard.clear();
  n.executor.post([&] { previews.add(delta(std::string(70u << 10, 'x'))); });
  n.run_until_idle();
  ASSERT_EQ(n.heard.size(), 1u);
}

TEST(TextPreviews, WhatIsPendingWhenThePreviewsGoIsDropped) {
  Node n;
  n.executor.post([&] {
    TextPreviews previews(n.executor, &n.bus, "user-1", "chat-1");
    previews.add(delta("never sent"));
  });
  n.run_until_idle();
  EXPECT_TRUE(n.heard.empty());
}

TEST(TextPreviews, WithoutABusNothingIsKept) {
  Node n;
  TextPreviews previews(n.executor, nullptr, "user-1", "chat-1");
  previews.add(delta("x"));
  previews.flush();
  n.run_until_idle();
  EXPECT_TRUE(n.heard.empty());
}

}  // namespace
}  // namespace reliant::agent
