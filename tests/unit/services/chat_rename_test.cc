// A chat's title over REST: a chat created without one takes it from its first message (and an
// update says so), one created with a title keeps it, and PATCH /chats/{id} renames a chat —
// its owner's only (another user's chat is a 404, left as it was), with a title that is one
// line of at most 500 bytes.
#include <gtest/gtest.h>

#include "services/api/api_server.h"
#include "services/updates/user_events.h"
#include "unit/services/agent_monolith.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

struct RenameApi {
  Monolith m;
  std::unique_ptr<api::ApiServer> rest = std::make_unique<api::ApiServer>(m.env, api::ApiConfig{});
  std::string erin = stored_token(m, "user-1", 1);
  std::string finn = stored_token(m, "user-2", 2);

  HttpResponse call(const std::string& method, const std::string& path, const std::string& token,
                    std::string body = "") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.headers["authorization"] = "Bearer " + token;
    request.body = std::move(body);
    return m.run(rest->handle(std::move(request)));
  }
  Json chat(const std::string& id) {
    HttpResponse got = call("GET", "/api/v1/chats/" + id, erin);
    EXPECT_EQ(got.status, 200) << got.body;
    return Json::parse(got.body, nullptr, false);
  }
  std::string create(const Json& body) {
    HttpResponse created = call("POST", "/api/v1/chats", erin, body.dump());
    EXPECT_EQ(created.status, 201) << created.body;
    return Json::parse(created.body, nullptr, false).value("id", "");
  }
  void send(const std::string& id, const std::string& text) {
    HttpResponse sent =
        call("POST", "/api/v1/chats/" + id + "/messages", erin, Json{{"text", text}}.dump());
    EXPECT_EQ(sent.status, 202) << sent.body;
  }
  std::vector<std::string> titles_announced(const std::string& id) {
    auto events = m.run(m.store.transact_for(
        [](SqlTransaction& tx) { return updates::read_user_events(tx, "user-1", 0, 1000); }));
    EXPECT_TRUE(events.has_value());
    std::vector<std::string> titles;
    for (const auto& event : events.value_or(std::vector<updates::UserEvent>{})) {
      if (event.kind == "chat_title" && event.chat_id == id) titles.push_back(event.body["title"]);
    }
    return titles;
  }
};

TEST(ChatRename, AnUntitledChatTakesItsTitleFromItsFirstMessage) {
  RenameApi a;
  const std::string id = a.create(Json::object());
  EXPECT_EQ(a.chat(id)["title"], "");
  a.send(id, "\n  Fix the flaky   login test\nIt fails one run in ten.");
  EXPECT_EQ(a.chat(id)["title"], "Fix the flaky login test");
  EXPECT_EQ(a.titles_announced(id), std::vector<std::string>{"Fix the flaky login test"});

  const std::string named = a.create(Json{{"title", "Kept"}});
  a.send(named, "something else entirely");
  EXPECT_EQ(a.chat(named)["title"], "Kept");
  EXPECT_TRUE(a.titles_announced(named).empty());
}

TEST(ChatRename, ItsOwnerRenamesAChatWithOneLineOfBoundedLength) {
  RenameApi a;
  const std::string id = a.create(Json{{"title", "First"}});
  HttpResponse renamed = a.call("PATCH", "/api/v1/chats/" + id, a.erin,
                                Json{{"title", "  Release notes for 2.0 "}}.dump());
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Json::parse(renamed.body)["title"], "Release notes for 2.0");
  EXPECT_EQ(a.chat(id)["title"], "Release notes for 2.0");
  EXPECT_EQ(a.titles_announced(id), std::vector<std::string>{"Release notes for 2.0"});

  const std::string path = "/api/v1/chats/" + id;
  for (const std::string& body :
       {Json{{"title", ""}}.dump(), Json{{"title", " \t "}}.dump(), Json{{"title", "a\nb"}}.dump(),
        Json{{"title", std::string(501, 'x')}}.dump(), Json{{"title", 5}}.dump(),
        Json::object().dump(), std::string("[]"), std::string("{")}) {
    EXPECT_EQ(a.call("PATCH", path, a.erin, body).status, 400) << body;
  }
  EXPECT_EQ(a.call("PATCH", path, a.erin, Json{{"title", std::string(500, 'x')}}.dump()).status,
            200);
  EXPECT_EQ(
      a.call("PATCH", "/api/v1/chats/no-such-chat", a.erin, Json{{"title", "x"}}.dump()).status,
      404);
}

TEST(ChatRename, AnotherUsersChatIsNotFoundAndKeepsItsTitle) {
  RenameApi a;
  const std::string id = a.create(Json{{"title", "Erin's"}});
  HttpResponse refused =
      a.call("PATCH", "/api/v1/chats/" + id, a.finn, Json{{"title", "Finn's now"}}.dump());
  EXPECT_EQ(refused.status, 404) << refused.body;
  EXPECT_EQ(a.chat(id)["title"], "Erin's");
  EXPECT_TRUE(a.titles_announced(id).empty());
}

}  // namespace
}  // namespace reliant::agent
