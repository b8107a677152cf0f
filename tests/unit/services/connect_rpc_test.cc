// The Connect protocol on the HTTP port, over GrpcApi on the simulated store: unary calls in
// JSON and binary protobuf, errors as HTTP statuses with {"code", "message"}, and a
// server-streaming call framed as envelopes ending with the end-of-stream message.
#include "services/api/connect_rpc.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

#include "reliant/api/v1/api.pb.h"
#include "services/api/grpc_api.h"
#include "services/storage/accounts.h"
#include "services/storage/migrator.h"
#include "sim/one_node.h"

namespace reliant::api {
namespace {

using Json = nlohmann::json;

// Records the body of a streamed response; refuses writes after `limit` (the client left).
class RecordingBody final : public HttpBodyWriter {
 public:
  explicit RecordingBody(std::size_t limit) : limit_(limit) {}
  Task<bool> write(std::string chunk) override {
    if (writes_ == limit_) co_return false;
    ++writes_;
    bytes += chunk;
    co_return true;
  }
  std::string bytes;

 private:
  std::size_t limit_;
  std::size_t writes_ = 0;
};

struct Envelope {
  std::uint8_t flags;
  std::string payload;
};

std::vector<Envelope> envelopes(std::string_view bytes) {
  std::vector<Envelope> out;
  while (bytes.size() >= 5) {
    std::uint32_t size = 0;
    for (int i = 1; i <= 4; ++i) size = (size << 8) | static_cast<std::uint8_t>(bytes[i]);
    out.push_back({static_cast<std::uint8_t>(bytes[0]), std::string(bytes.substr(5, size))});
    bytes.remove_prefix(5 + size);
  }
  EXPECT_TRUE(bytes.empty()) << "a cut-off envelope";
  return out;
}

std::string envelope(std::string_view payload) {
  std::string out(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>(payload.size() >> shift));
  return out + std::string(payload);
}

struct Connect : sim::OneNode {
  GrpcApi grpc{env, ApiConfig{}};
  ConnectRpc connect{grpc};
  std::string token;

  Connect() : OneNode(17, 5, "api") {
    EXPECT_TRUE(run(migrate_up(store, world.now())).has_value());
    std::array<std::uint8_t, kPatRandomBytes> secret{};
    secret.fill(9);
    const NewToken made = make_token(secret, "tok-1", "u1", "test", 0);
    token = made.token;
    auto seeded = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      if (auto ok = insert_user(tx, User{"u1", "ada@example.com", "", 0}); !ok) return ok;
      return insert_new_token(tx, made);
    });
    EXPECT_TRUE(seeded.has_value());
  }
  HttpResponse call(const std::string& path, const std::string& content_type,
                    const std::string& body, bool with_token = true,
                    const std::string& method = "POST") {
    HttpRequest request;
    request.method = method;
    request.path = path;
    request.headers["content-type"] = content_type;
    if (with_token) request.headers["authorization"] = "Bearer " + token;
    request.body = body;
    return run(connect.handle(std::move(request)));
  }
};

TEST(ConnectRpc, UnaryCallsSpeakJsonAndBinaryProtobuf) {
  Connect c;
  const HttpResponse created = c.call("/reliant.api.v1.ChatService/CreateChat", "application/json",
                                      R"({"title":"from a browser"})");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.content_type, "application/json");
  const Json chat = Json::parse(created.body);
  EXPECT_EQ(chat["title"], "from a browser");
  EXPECT_TRUE(chat.contains("createdAtMs")) << "proto3 JSON names: " << created.body;

  const HttpResponse listed = c.call("/reliant.api.v1.ChatService/ListChats", "application/proto",
                                     v1::ListChatsRequest().SerializeAsString());
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.content_type, "application/proto");
  v1::ListChatsResponse response;
  ASSERT_TRUE(response.ParseFromString(listed.body));
  ASSERT_EQ(response.chats_size(), 1);
  EXPECT_EQ(response.chats(0).id(), chat["id"]);
}

TEST(ConnectRpc, ErrorsAreHttpStatusesWithConnectCodes) {
  Connect c;
  const auto expect = [&](const HttpResponse& r, int status, const std::string& code) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(Json::parse(r.body).value("code", ""), code) << r.body;
  };
  const std::string list = "/reliant.api.v1.ChatService/ListChats";
  expect(c.call(list, "application/json", "{}", false), 401, "unauthenticated");
  expect(c.call(list, "application/json", R"({"nope":1})"), 400, "invalid_argument");
  expect(c.call(list, "application/json", "{not json"), 400, "invalid_argument");
  expect(c.call(list, "application/proto", "\xff\xff\xff"), 400, "invalid_argument");
  expect(c.call(list, "text/plain", "{}"), 415, "unimplemented");
  expect(c.call(list, "application/json", "{}", true, "GET"), 405, "unimplemented");
  expect(c.call("/reliant.api.v1.ChatService/Nothing", "application/json", "{}"), 501,
         "unimplemented");
  expect(c.call("/reliant.api.v1.ChatService/GetChat", "application/json", R"({"chatId":"x"})"),
         404, "not_found");
}

TEST(ConnectRpc, WorkflowServiceValidatesADefinition) {
  Connect c;
  const std::string validate = "/reliant.api.v1.WorkflowService/ValidateWorkflow";
  const HttpResponse valid =
      c.call(validate, "application/json",
             Json{{"source", "name: lint\nentry: a\nnodes:\n  - {id: a, type: router}\n"}}.dump());
  ASSERT_EQ(valid.status, 200) << valid.body;
  EXPECT_EQ(Json::parse(valid.body)["name"], "lint");
  const HttpResponse refused = c.call(
      validate, "application/json",
      Json{{"source", "name: x\nentry: a\nnodes:\n  - {id: a, type: nope}\n"}, {"file", "x.yaml"}}
          .dump());
  EXPECT_EQ(refused.status, 400);
  const Json error = Json::parse(refused.body);
  EXPECT_EQ(error["code"], "invalid_argument");
  EXPECT_EQ(error.value("message", "").rfind("x.yaml:4:", 0), 0u) << refused.body;
}

// Issue 15 on the Connect face: request JSON nested 100,000 deep is refused before protobuf's
// parser sees it, and the server goes on answering.
TEST(ConnectRpc, DeeplyNestedJsonIsInvalidArgument) {
  Connect c;
  const std::string create = "/reliant.api.v1.ChatService/CreateChat";
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += "{\"a\":";
  for (const std::string& deep :
       {"{\"title\":" + std::string(100'000, '[') + std::string(100'000, ']') + "}",
        std::string(100'000, '['), objects}) {
    const HttpResponse refused = c.call(create, "application/json", deep);
    EXPECT_EQ(refused.status, 400) << refused.body.substr(0, 200);
    const Json error = Json::parse(refused.body);
    EXPECT_EQ(error.value("code", ""), "invalid_argument");
    EXPECT_NE(error.value("message", "").find("JSON nested deeper than 64 levels at byte "),
              std::string::npos)
        << error.value("message", "");
  }
  const std::string stream = "/reliant.api.v1.StreamingService/StreamUpdates";
  const HttpResponse streamed =
      c.call(stream, "application/connect+json", envelope(std::string(100'000, '[')));
  ASSERT_EQ(streamed.status, 200);
  const auto end = envelopes(streamed.body);
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(end[0].flags, 2);
  EXPECT_EQ(Json::parse(end[0].payload)["error"]["code"], "invalid_argument") << end[0].payload;

  const HttpResponse created = c.call(create, "application/json", R"({"title":"still here"})");
  EXPECT_EQ(created.status, 200) << created.body;
}

TEST(ConnectRpc, ServerStreamsAreEnvelopesEndedByAnEndOfStreamMessage) {
  Connect c;
  ASSERT_EQ(c.call("/reliant.api.v1.ChatService/CreateChat", "application/json", R"({"title":"t"})")
                .status,
            200);
  const std::string stream = "/reliant.api.v1.StreamingService/StreamUpdates";
  HttpResponse opened = c.call(stream, "application/connect+json", envelope("{}"));
  ASSERT_EQ(opened.status, 200);
  EXPECT_EQ(opened.content_type, "application/connect+json");
  ASSERT_NE(opened.stream, nullptr);
  // The stream waits for more updates after the first; two seconds of virtual time show it.
  RecordingBody body(100);
  c.scope->spawn(opened.stream->run(body));
  c.world.run_until(c.world.now() + seconds(2));
  const auto frames = envelopes(body.bytes);
  ASSERT_EQ(frames.size(), 1u) << body.bytes;
  EXPECT_EQ(frames[0].flags, 0);
  EXPECT_EQ(Json::parse(frames[0].payload).value("kind", ""), "chat_created");

  // Errors of a stream travel in the end-of-stream message of a 200 answer.
  for (const std::string& bad :
       {std::string("\x00\x00\x00\x00\x09{}", 7), std::string("ab"), envelope("{\"nope\":1}"),
        std::string("\x01\x00\x00\x00\x02{}", 7)}) {
    const HttpResponse refused = c.call(stream, "application/connect+json", bad);
    ASSERT_EQ(refused.status, 200);
    const auto end = envelopes(refused.body);
    ASSERT_EQ(end.size(), 1u);
    EXPECT_EQ(end[0].flags, 2);
    EXPECT_EQ(Json::parse(end[0].payload)["error"]["code"], "invalid_argument") << end[0].payload;
  }
  const HttpResponse anonymous = c.call(stream, "application/connect+json", envelope("{}"), false);
  RecordingBody refused(5);
  c.run(anonymous.stream->run(refused));
  const auto end = envelopes(refused.bytes);
  ASSERT_EQ(end.size(), 1u);
  EXPECT_EQ(end[0].flags, 2);
  EXPECT_EQ(Json::parse(end[0].payload)["error"]["code"], "unauthenticated");
}

}  // namespace
}  // namespace reliant::api
