// A chat's messages come a page at a time, over REST (GET /chats/{id}?limit=&after=|before=)
// and gRPC (GetChat): 100 by default, at most 1000, and at most a few megabytes of content; a
// cursor on either side of the page; `has_more` says whether to ask again. (The whole history
// in one answer was 40 MB for one chat.) Beside them, the plan its planning tools keep.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/url_encoding.h"
#include "reliant/api/v1/api.pb.h"
#include "services/api/api_server.h"
#include "services/api/grpc_api.h"
#include "services/storage/accounts.h"
#include "services/storage/chats.h"
#include "services/storage/migrator.h"
#include "services/storage/plans.h"
#include "sim/one_node.h"

namespace reliant::api {
namespace {

using Json = nlohmann::json;

struct PagingApi : sim::OneNode {
  std::unique_ptr<ApiServer> rest;
  std::unique_ptr<GrpcApi> grpc;
  std::string ada;  // tokens
  std::string bob;

  PagingApi() : OneNode(17, 5, "api") {
    EXPECT_TRUE(run(migrate_up(store, world.now())).has_value());
    rest = std::make_unique<ApiServer>(env, ApiConfig{});
    grpc = std::make_unique<GrpcApi>(env, ApiConfig{});
    ada = add_user("u-ada", "ada@example.com", 1);
    bob = add_user("u-bob", "bob@example.com", 2);
  }
  std::string add_user(const std::string& id, const std::string& email, std::uint8_t fill) {
    std::array<std::uint8_t, kPatRandomBytes> secret{};
    secret.fill(fill);
    const NewToken token = make_token(secret, "tok-" + id, id, "test", 0);
    auto made = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      if (auto ok = insert_user(tx, User{id, email, "", 0}); !ok) return ok;
      return insert_new_token(tx, token);
    });
    EXPECT_TRUE(made.has_value()) << made.error().message;
    return token.token;
  }
  // A chat of ada's with `count` messages whose text blocks hold `text_bytes` bytes each.
  void add_chat(const std::string& chat_id, int count, std::size_t text_bytes = 10) {
    auto made = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      ChatRecord chat;
      chat.id = chat_id;
      chat.user_id = "u-ada";
      chat.title = "long";
      if (auto ok = insert_chat(tx, chat); !ok) return ok;
      for (int i = 1; i <= count; ++i) {
        MessageRecord message;
        message.id = chat_id + "-m" + std::to_string(i);
        message.chat_id = chat_id;
        message.role = i % 2 == 1 ? "user" : "assistant";
        message.created_at_ms = i;
        message.blocks.push_back({"text", {{"text", std::string(text_bytes, 'a')}}});
        auto stored = insert_message_once(tx, SqlDialect::sqlite, message);
        if (!stored) return fail(stored.error());
      }
      return {};
    });
    ASSERT_TRUE(made.has_value()) << made.error().message;
  }
  HttpResponse get(const std::string& target, const std::string& token) {
    HttpRequest request;
    request.method = "GET";
    const auto question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos)
      request.query = parse_form_urlencoded(target.substr(question + 1));
    request.headers["authorization"] = "Bearer " + token;
    return run(rest->handle(std::move(request)));
  }
  Result<v1::GetChatResponse> get_chat(const v1::GetChatRequest& in, const std::string& token) {
    RpcCall call;
    call.method = "/reliant.api.v1.ChatService/GetChat";
    call.metadata["authorization"] = "Bearer " + token;
    call.request = in.SerializeAsString();
    Result<std::string> answer = run(grpc->unary(std::move(call)));
    if (!answer) return fail(answer.error());
    v1::GetChatResponse out;
    EXPECT_TRUE(out.ParseFromString(*answer));
    return out;
  }
};

std::vector<std::int64_t> ordinals(const Json& page) {
  std::vector<std::int64_t> out;
  for (const auto& message : page["messages"])
    out.push_back(message["ordinal"].get<std::int64_t>());
  return out;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = first; i <= last; ++i) out.push_back(i);
  return out;
}

TEST(ChatPaging, RestPagesForwardFromTheStartAndBackwardFromTheEnd) {
  PagingApi a;
  a.add_chat("c1", 250);
  // The default: the first 100, and where the next page starts.
  HttpResponse first = a.get("/api/v1/chats/c1", a.ada);
  ASSERT_EQ(first.status, 200) << first.body;
  Json page = Json::parse(first.body);
  EXPECT_EQ(page["id"], "c1") << "the chat itself is still there";
  EXPECT_EQ(ordinals(page), range(1, 100));
  EXPECT_EQ(page["has_more"], true);
  EXPECT_EQ(page["next_after"], 100);
  // Following next_after to the end.
  page = Json::parse(a.get("/api/v1/chats/c1?after=100", a.ada).body);
  EXPECT_EQ(ordinals(page), range(101, 200));
  EXPECT_EQ(page["next_after"], 200);
  page = Json::parse(a.get("/api/v1/chats/c1?after=200", a.ada).body);
  EXPECT_EQ(ordinals(page), range(201, 250));
  EXPECT_EQ(page["has_more"], false);
  EXPECT_FALSE(page.contains("next_after"));
  // Backwards from the newest, as a chat window scrolls up.
  page = Json::parse(a.get("/api/v1/chats/c1?before=251&limit=30", a.ada).body);
  EXPECT_EQ(ordinals(page), range(221, 250)) << "oldest first within the page";
  EXPECT_EQ(page["has_more"], true);
  EXPECT_EQ(page["next_before"], 221);
  page = Json::parse(a.get("/api/v1/chats/c1?before=21&limit=30", a.ada).body);
  EXPECT_EQ(ordinals(page), range(1, 20));
  EXPECT_EQ(page["has_more"], false);
  // The limit is capped, not refused.
  page = Json::parse(a.get("/api/v1/chats/c1?limit=100000", a.ada).body);
  EXPECT_EQ(ordinals(page), range(1, 250));
  EXPECT_EQ(page["has_more"], false);
  page = Json::parse(a.get("/api/v1/chats/c1?limit=7&after=3", a.ada).body);
  EXPECT_EQ(ordinals(page), range(4, 10));
}

TEST(ChatPaging, RestRefusesMalformedPagingAndOthersChats) {
  PagingApi a;
  a.add_chat("c1", 3);
  for (const std::string bad :
       {"?limit=abc", "?limit=-1", "?after=1.5", "?after=2&before=3", "?before=x"}) {
    const HttpResponse refused = a.get("/api/v1/chats/c1" + bad, a.ada);
    EXPECT_EQ(refused.status, 400) << bad << ": " << refused.body;
  }
  EXPECT_EQ(a.get("/api/v1/chats/c1", a.bob).status, 404) << "another user's chat";
  EXPECT_EQ(a.get("/api/v1/chats/c1?limit=1", a.bob).status, 404);
}

// A few huge messages fill a page before its count does: at most about 4 MiB of content per
// page, but always at least one message.
TEST(ChatPaging, APageStopsAtItsByteBudget) {
  PagingApi a;
  a.add_chat("big", 4, 3 << 20);  // 3 MiB each
  Json page = Json::parse(a.get("/api/v1/chats/big", a.ada).body);
  EXPECT_EQ(ordinals(page), range(1, 2)) << "3 MiB, then 6 MiB: the budget is spent";
  EXPECT_EQ(page["has_more"], true);
  EXPECT_EQ(page["next_after"], 2);
  page = Json::parse(a.get("/api/v1/chats/big?after=2&limit=1", a.ada).body);
  EXPECT_EQ(ordinals(page), range(3, 3));
  EXPECT_EQ(page["has_more"], true);
}

TEST(ChatPaging, GrpcGetChatPagesTheSameWay) {
  PagingApi a;
  a.add_chat("c1", 150);
  v1::GetChatRequest in;
  in.set_chat_id("c1");
  auto first = a.get_chat(in, a.ada);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  ASSERT_EQ(first->messages_size(), 100) << "100 by default";
  EXPECT_EQ(first->messages(0).ordinal(), 1);
  EXPECT_TRUE(first->has_more());
  in.set_after_ordinal(first->messages(99).ordinal());
  auto second = a.get_chat(in, a.ada);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  ASSERT_EQ(second->messages_size(), 50);
  EXPECT_EQ(second->messages(0).ordinal(), 101);
  EXPECT_FALSE(second->has_more());

  v1::GetChatRequest back;
  back.set_chat_id("c1");
  back.set_before_ordinal(11);
  back.set_limit(4);
  auto before = a.get_chat(back, a.ada);
  ASSERT_TRUE(before.has_value()) << before.error().message;
  ASSERT_EQ(before->messages_size(), 4);
  EXPECT_EQ(before->messages(0).ordinal(), 7);
  EXPECT_EQ(before->messages(3).ordinal(), 10);
  EXPECT_TRUE(before->has_more());

  back.set_after_ordinal(2);
  auto both = a.get_chat(back, a.ada);
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(both.error().code, ErrorCode::invalid_argument);
  v1::GetChatRequest negative;
  negative.set_chat_id("c1");
  negative.set_limit(-5);
  auto refused = a.get_chat(negative, a.ada);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
  auto theirs = a.get_chat(in, a.bob);
  ASSERT_FALSE(theirs.has_value());
  EXPECT_EQ(theirs.error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace reliant::api

namespace reliant::api {
namespace {

// The plan a chat's planning tools keep, over REST beside its messages: null before the first,
// then the document, its version and its text; another user's chat is a 404.
TEST(ChatPlan, RestShowsTheChatsPlanToItsUserOnly) {
  PagingApi a;
  a.add_chat("c-plan", 1);
  HttpResponse none = a.get("/api/v1/chats/c-plan/plan", a.ada);
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_TRUE(Json::parse(none.body)["plan"].is_null());

  auto saved = a.database.database().transact([](SqlTransaction& tx) -> Result<void> {
    ChatPlanRecord plan{"c-plan"};
    plan.plan = {{"title", "Ship"},
                 {"description", ""},
                 {"tasks", {{{"id", 1}, {"title", "test"}, {"status", "completed"}}}},
                 {"next_task_id", 2}};
    auto version = save_chat_plan(tx, plan, 5);
    if (!version) return fail(version.error());
    return {};
  });
  ASSERT_TRUE(saved.has_value()) << saved.error().message;
  HttpResponse shown = a.get("/api/v1/chats/c-plan/plan", a.ada);
  ASSERT_EQ(shown.status, 200) << shown.body;
  const Json body = Json::parse(shown.body);
  EXPECT_EQ(body["version"], 1);
  EXPECT_EQ(body["plan"]["title"], "Ship");
  EXPECT_EQ(body["text"], "Plan: Ship\n\nTasks (1 of 1 completed):\n[x] 1. test\n");
  EXPECT_EQ(a.get("/api/v1/chats/c-plan/plan", a.bob).status, 404);
}

}  // namespace
}  // namespace reliant::api
