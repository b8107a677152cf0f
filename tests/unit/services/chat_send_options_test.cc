// What a message's send options take over REST: a max_turns past a signed 64-bit number is
// refused as too large — read as a signed number it once wrapped to a negative one, and the
// error then named a value the client never sent.
#include <gtest/gtest.h>

#include "services/api/api_server.h"
#include "unit/services/agent_monolith.h"

namespace reliant::agent {
namespace {

using Json = nlohmann::json;

TEST(ChatSendOptions, AMaxTurnsPastSixtyFourBitsIsRefusedAsTooLarge) {
  Monolith m;
  api::ApiServer rest(m.env, api::ApiConfig{});
  const std::string token = stored_token(m, "user-1", 1);
  const auto call = [&](const std::string& path, std::string body) {
    HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.headers["authorization"] = "Bearer " + token;
    request.body = std::move(body);
    return m.run(rest.handle(std::move(request)));
  };
  HttpResponse created = call("/api/v1/chats", "{}");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string messages =
      "/api/v1/chats/" + Json::parse(created.body).value("id", "") + "/messages";
  for (const std::string number : {"9223372036854775808", "18446744073709551615"}) {
    HttpResponse refused = call(messages, R"({"text":"x","max_turns":)" + number + "}");
    EXPECT_EQ(refused.status, 400) << refused.body;
    EXPECT_NE(refused.body.find("\\\"max_turns\\\" " + number + " is too large"), std::string::npos)
        << refused.body;
  }
  HttpResponse below = call(messages, R"({"text":"x","max_turns":-1})");
  EXPECT_EQ(below.status, 400) << below.body;
  EXPECT_NE(below.body.find("-1 is below min 1"), std::string::npos) << below.body;
}

}  // namespace
}  // namespace reliant::agent
