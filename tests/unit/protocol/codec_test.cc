// The bus JSON decoder against deep nesting (issue 15): protobuf's JSON parser bounds objects but
// not arrays, so from_json refuses anything nested deeper than kJsonDepthMax before it parses —
// as an invalid_argument naming the type, like any malformed payload.
#include "protocol/codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "base/json_parse.h"
#include "reliant/daemon/v1/daemon.pb.h"

namespace reliant::protocol {
namespace {

namespace v1 = reliant::daemon::v1;

constexpr std::size_t kLevels = 100'000;

void expect_too_deep(const Result<v1::ToolRequest>& decoded, std::size_t at) {
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(decoded.error().message,
            "invalid reliant.daemon.v1.ToolRequest JSON: JSON nested deeper than 64 levels at "
            "byte " +
                std::to_string(at));
}

TEST(Codec, JsonNestedTooDeepIsRefusedBeforeProtobufParsesIt) {
  const std::string arrays = std::string(kLevels, '[') + std::string(kLevels, ']');
  // `{"requestId":` is 13 bytes: the 65th level opens at 13 + 63.
  expect_too_deep(from_json<v1::ToolRequest>("{\"requestId\":" + arrays + "}"), 76);
  expect_too_deep(from_json<v1::ToolRequest>("{\"unknown\":" + arrays + "}"), 74);
  expect_too_deep(from_json<v1::ToolRequest>(arrays), 64);
  std::string objects = "{\"requestId\":";
  for (std::size_t i = 0; i < kLevels; ++i) objects += "{\"a\":";
  expect_too_deep(from_json<v1::ToolRequest>(objects), 13 + 5 * 63);
  // protobuf's own wording for what is shallow but wrong, as before.
  const auto unknown = from_json<v1::ToolRequest>(R"({"unknown":[[1]]})");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message.find("nested deeper"), std::string::npos)
      << unknown.error().message;
}

TEST(Codec, BracketsInStringsAreNotNesting) {
  const std::string brackets(kLevels, '[');
  auto plain = from_json<v1::ToolRequest>("{\"requestId\":\"" + brackets + "\"}");
  ASSERT_TRUE(plain.has_value()) << plain.error().message;
  EXPECT_EQ(plain->request_id(), brackets);
  // protobuf's parser also reads single-quoted strings (the fast path declines them), and the
  // depth check skips them the same way.
  auto quoted = from_json<v1::ToolRequest>("{\"requestId\":'" + brackets + "'}");
  ASSERT_TRUE(quoted.has_value()) << quoted.error().message;
  EXPECT_EQ(quoted->request_id(), brackets);
}

TEST(Codec, ShallowBusPayloadsStillRoundTrip) {
  v1::ToolRequest request;
  request.set_request_id("r1");
  request.set_tool_name("bash");
  request.set_input_json(std::string(kJsonDepthMax + 1, '['));  // a string: no nesting
  auto again = from_json<v1::ToolRequest>(to_json(request));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->input_json(), request.input_json());
}

// A daemon sends its tool responses encoded as the frame that holds them (encode_as_field),
// without copying each into a DaemonFrame: the bytes must be the frame's, whatever the response
// holds — empty, every field, large or multi-byte content — and so for a message with a map
// (Register's labels), which only a deterministic encoding orders alike.
TEST(Codec, AMessageEncodedAsAFieldIsTheFrameHoldingIt) {
  std::mt19937 random(44);
  // Valid UTF-8 (a string field's bytes are checked as they are encoded, and logged when not):
  // printable ASCII with a two-byte character now and then.
  const auto text = [&random](std::size_t most) {
    std::string out;
    const std::size_t size = std::uniform_int_distribution<std::size_t>(0, most)(random);
    while (out.size() < size) {
      const int c = std::uniform_int_distribution<int>(32, 127)(random);
      out += c == 127 ? std::string("\u00e9") : std::string(1, static_cast<char>(c));
    }
    return out;
  };
  for (int i = 0; i < 200; ++i) {
    v1::ToolResponse response;
    if (i % 7 != 0) {  // every seventh: an empty response
      response.set_request_id(text(40));
      response.set_success(i % 2 == 0);
      response.set_is_error(i % 3 == 0);
      response.set_content(text(i % 10 == 1 ? 300'000 : 200));
      response.set_metadata_json(text(50));
      response.set_error_code(text(20));
      response.set_error_message(text(60));
      response.set_daemon_id(text(30));
      response.set_user_id(text(30));
      response.set_truncated(i % 5 == 0);
    }
    v1::DaemonFrame frame;
    *frame.mutable_tool_response() = response;
    ASSERT_EQ(encode_as_field(v1::DaemonFrame::kToolResponseFieldNumber, response), encode(frame))
        << "response " << i;

    v1::Register registration;
    registration.set_daemon_id(text(30));
    for (int label = 0; label < i % 9; ++label)
      (*registration.mutable_labels())[text(12)] = text(12);
    v1::DaemonFrame registering;
    *registering.mutable_register_() = registration;
    ASSERT_EQ(encode_as_field(v1::DaemonFrame::kRegisterFieldNumber, registration),
              encode(registering))
        << "registration " << i;
  }
}

}  // namespace
}  // namespace reliant::protocol
