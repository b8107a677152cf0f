// JSON-RPC 2.0 as MCP exchanges it: each kind of message read, and each malformed one refused
// with a reason that names what is wrong.
#include <gtest/gtest.h>

#include "core/mcp/jsonrpc.h"

namespace reliant::mcp {
namespace {

TEST(JsonRpc, ReadsEachKindOfMessage) {
  auto req =
      parse_message(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}})");
  ASSERT_TRUE(req.has_value()) << req.error().message;
  EXPECT_EQ(req->kind, Message::Kind::request);
  EXPECT_EQ(req->id, RequestId(std::int64_t{7}));
  EXPECT_EQ(req->params["name"], "x");
  auto note = parse_message(R"({"jsonrpc":"2.0","method":"notifications/progress"})");
  ASSERT_TRUE(note.has_value());
  EXPECT_EQ(note->kind, Message::Kind::notification);
  auto res = parse_message(R"({"jsonrpc":"2.0","id":"s1","result":{}})");
  ASSERT_TRUE(res.has_value());
  EXPECT_EQ(res->kind, Message::Kind::result);
  EXPECT_EQ(res->id, RequestId(std::string("s1")));
  auto err =
      parse_message(R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"bad"}})");
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->kind, Message::Kind::error);
  EXPECT_FALSE(err->id.has_value());
  EXPECT_EQ(err->error.code, rpc_error::parse_error);
}

TEST(JsonRpc, MalformedMessagesSayWhatIsWrong) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "JSON-RPC: parse error"},
      {R"([{"jsonrpc":"2.0","id":1,"method":"x"}])", "batches are not supported"},
      {R"({"jsonrpc":"1.0","id":1,"method":"x"})", "\"jsonrpc\" must be \"2.0\""},
      {R"({"jsonrpc":"2.0","id":1.5,"method":"x"})", "id must be an integer or a string"},
      {R"({"jsonrpc":"2.0","id":1,"method":""})", "\"method\" must be a non-empty string"},
      {R"({"jsonrpc":"2.0","id":1,"method":"x","params":3})", "must be an object or an array"},
      {R"({"jsonrpc":"2.0","id":1,"result":1,"error":{"code":1}})", "exactly one of"},
      {R"({"jsonrpc":"2.0","result":1})", "a result needs the id"},
      {R"({"jsonrpc":"2.0","id":1,"error":{"message":"x"}})", "\"code\" must be an integer"},
      {"17", "a message is an object"},
  };
  for (const auto& [text, reason] : cases) {
    auto parsed = parse_message(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(parsed.error().message.find(reason), std::string::npos)
        << text << " gave: " << parsed.error().message;
  }
  EXPECT_FALSE(parse_message(std::string(200, '[')).has_value()) << "too deep";
}

TEST(JsonRpc, WritesWhatItReads) {
  auto back = parse_message(request(RequestId(std::int64_t{3}), "ping", Json()));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->method, "ping");
  EXPECT_TRUE(back->params.is_null());
  auto answered = parse_message(error_response(RequestId(std::string("q")), -32601, "no"));
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(answered->error.message, "no");
}

// A response too deep to read still names its call (issue 38: such a call waited out its
// timeout); what is not a response, or breaks before its id, names none.
TEST(JsonRpc, TheIdOfAResponseThatDoesNotParseIsReadWhenItCanBe) {
  const std::string deep = R"({"jsonrpc":"2.0","id":7,"result":{"x":)" + std::string(300, '[') +
                           std::string(300, ']') + "}}";
  ASSERT_FALSE(parse_message(deep).has_value());
  EXPECT_EQ(response_id_of_malformed(deep), RequestId(std::int64_t{7}));
  EXPECT_EQ(response_id_of_malformed(R"({"result": {"a": "}"}, "id": "q-1", "jsonrpc": 2})"),
            RequestId(std::string("q-1")));
  EXPECT_EQ(response_id_of_malformed(R"( { "id" : -3 , "error": {"code": "x")"),
            RequestId(std::int64_t{-3}))
      << "broken after its id";
  EXPECT_EQ(response_id_of_malformed(R"({"id": 9, "result": [1, 2)"), RequestId(std::int64_t{9}));
  for (const std::string text :
       {R"({"id": 7, "method": "ping", "params": [[[)", R"({"method": "x", "id": 7, "result": 1})",
        R"({"id": 7})", R"({"result": 1})", R"([{"id": 1, "result": 1}])",
        R"({"id": 1e3, "result": 1})", R"({"id": "a\"b", "result": 1})", "", "{", "{\"id",
        "{\"id\":", "not json"}) {
    EXPECT_EQ(response_id_of_malformed(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace reliant::mcp
