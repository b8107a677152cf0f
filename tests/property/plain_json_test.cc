// plain_json (protocol/plain_json.h) against protobuf's own JSON util, on random messages of the
// wire types: the same bytes printed, the same message parsed, and — for input it declines —
// the same outcome through codec.cc, because protobuf then decides.
#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <nlohmann/json.hpp>

#include "base/utf8.h"
#include "property/property_check.h"
#include "protocol/codec.h"
#include "protocol/plain_json.h"
#include "reliant/api/v1/api.pb.h"
#include "reliant/daemon/v1/daemon.pb.h"

namespace reliant::property {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
namespace daemon_v1 = reliant::daemon::v1;
namespace api_v1 = reliant::api::v1;

std::string protobuf_print(const Message& message) {
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(message, &out).ok());
  return out;
}

bool protobuf_parse(const std::string& json, Message& message) {
  google::protobuf::util::JsonParseOptions options;
  return google::protobuf::util::JsonStringToMessage(json, &message, options).ok();
}

bool same(const Message& a, const Message& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// Valid UTF-8 that visits what escaping treats specially: ASCII controls and HTML characters,
// C1 controls, the invisible characters protobuf escapes, astral code points, and plain text.
rc::Gen<std::string> gen_text() {
  const auto code_point = rc::gen::oneOf(
      rc::gen::inRange<std::uint32_t>(0x20, 0x7f), rc::gen::inRange<std::uint32_t>(0, 0xa0),
      rc::gen::element<std::uint32_t>('"', '\\', '<', '>', '/', 0x7f, 0xad, 0x600, 0x6dd, 0x70f,
                                      0x17b4, 0x200b, 0x2028, 0x202e, 0x2060, 0x206a, 0xfeff,
                                      0xfffb, 0xe0001, 0x1d173, 0xe007f),
      rc::gen::inRange<std::uint32_t>(0xa0, 0xd800),
      rc::gen::inRange<std::uint32_t>(0xe000, 0x110000));
  return rc::gen::map(rc::gen::container<std::vector<std::uint32_t>>(code_point),
                      [](const std::vector<std::uint32_t>& points) {
                        std::string text;
                        for (const std::uint32_t cp : points) append_utf8(cp, text);
                        return text;
                      });
}

// Fills every field of a plain message at random (defaults included, so omission is tested).
void fill(Message& message, int depth) {
  const auto* type = message.GetDescriptor();
  const auto* r = message.GetReflection();
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    const int count = field->is_repeated() ? *rc::gen::inRange(0, 3) : 1;
    for (int k = 0; k < count; ++k) {
      const bool add = field->is_repeated();
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING: {
          std::string text = *rc::gen::oneOf(gen_text(), rc::gen::just(std::string()));
          add ? r->AddString(&message, field, text) : r->SetString(&message, field, text);
          break;
        }
        case FieldDescriptor::CPPTYPE_BOOL: {
          const bool b = *rc::gen::arbitrary<bool>();
          add ? r->AddBool(&message, field, b) : r->SetBool(&message, field, b);
          break;
        }
        case FieldDescriptor::CPPTYPE_INT32: {
          const auto n = *rc::gen::arbitrary<std::int32_t>();
          add ? r->AddInt32(&message, field, n) : r->SetInt32(&message, field, n);
          break;
        }
        case FieldDescriptor::CPPTYPE_UINT32: {
          const auto n = *rc::gen::arbitrary<std::uint32_t>();
          add ? r->AddUInt32(&message, field, n) : r->SetUInt32(&message, field, n);
          break;
        }
        case FieldDescriptor::CPPTYPE_INT64: {
          const auto n = *rc::gen::oneOf(
              rc::gen::arbitrary<std::int64_t>(),
              rc::gen::element<std::int64_t>(0, INT64_MIN, INT64_MAX, (std::int64_t{1} << 53) + 1));
          add ? r->AddInt64(&message, field, n) : r->SetInt64(&message, field, n);
          break;
        }
        case FieldDescriptor::CPPTYPE_UINT64: {
          const auto n = *rc::gen::arbitrary<std::uint64_t>();
          add ? r->AddUInt64(&message, field, n) : r->SetUInt64(&message, field, n);
          break;
        }
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (depth < 3 && *rc::gen::arbitrary<bool>()) {
            fill(add ? *r->AddMessage(&message, field) : *r->MutableMessage(&message, field),
                 depth + 1);
          }
          break;
        default:
          RC_FAIL("not a plain field: " + field->full_name());
      }
    }
  }
}

// The same JSON as another writer might send it: nlohmann's escaping, whitespace, proto field
// names instead of JSON names, 64-bit integers as numbers.
std::string rewritten(const Message& message, const std::string& json) {
  nlohmann::json tree = nlohmann::json::parse(json);
  std::function<void(nlohmann::json&, const google::protobuf::Descriptor*)> rewrite =
      [&](nlohmann::json& object, const google::protobuf::Descriptor* type) {
        nlohmann::json out = nlohmann::json::object();
        for (auto& [key, value] : object.items()) {
          const FieldDescriptor* field = type->FindFieldByCamelcaseName(key);
          RC_ASSERT(field != nullptr);
          auto one = [&](nlohmann::json& v) {
            if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
              rewrite(v, field->message_type());
            } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_INT64 &&
                       *rc::gen::arbitrary<bool>()) {
              v = std::stoll(v.get<std::string>());
            } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_UINT64 &&
                       *rc::gen::arbitrary<bool>()) {
              v = std::stoull(v.get<std::string>());
            }
          };
          if (value.is_array()) {
            for (auto& element : value) one(element);
          } else {
            one(value);
          }
          out[*rc::gen::arbitrary<bool>() ? field->name() : key] = value;
        }
        object = std::move(out);
      };
  rewrite(tree, message.GetDescriptor());
  return tree.dump(*rc::gen::element(-1, 0, 2));
}

template <class M>
void prints_and_parses_like_protobuf() {
  M message;
  fill(message, 0);
  const std::string expected = protobuf_print(message);
  const auto printed = protocol::print_plain_json(message);
  RC_ASSERT(printed.has_value());
  RC_ASSERT(*printed == expected);

  M parsed;
  RC_ASSERT(protocol::parse_plain_json(expected, parsed));
  RC_ASSERT(same(parsed, message));

  const std::string other = rewritten(message, expected);
  M ours;
  M theirs;
  RC_ASSERT(protobuf_parse(other, theirs));
  RC_ASSERT(protocol::parse_plain_json(other, ours));
  RC_ASSERT(same(ours, theirs));
}

TEST(PlainJsonProperty, ToolRequestsPrintAndParseLikeProtobuf) {
  check_property(300, [] { prints_and_parses_like_protobuf<daemon_v1::ToolRequest>(); });
}

TEST(PlainJsonProperty, ToolResponsesPrintAndParseLikeProtobuf) {
  check_property(300, [] { prints_and_parses_like_protobuf<daemon_v1::ToolResponse>(); });
}

TEST(PlainJsonProperty, NestedRepeatedMessagesPrintAndParseLikeProtobuf) {
  check_property(200, [] { prints_and_parses_like_protobuf<api_v1::GetChatResponse>(); });
}

// Whatever the input, codec.cc's answer is protobuf's: the fast path accepts only what protobuf
// accepts, into the same message, and whatever it declines protobuf judges as before.
template <class M>
void decoding_agrees_with_protobuf() {
  M sample;
  fill(sample, 0);
  // Valid JSON bent in one to three places: a token that JSON, UTF-8 or protobuf's mapping
  // treats specially, put in, put over, or a byte taken out.
  std::string text = protobuf_print(sample);
  const int bends = *rc::gen::inRange(1, 4);
  for (int b = 0; b < bends; ++b) {
    const std::string token = *rc::gen::element<std::string>(
        "\"", "\\", ",", ":", "{", "}", "[", "]", " ", "\n", "0", "-", ".", "e", "null", "true",
        "tru", "\\u", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u0000", "\\/", "\\x", "1e5",
        "false", "-0", "01", "2.0", "18446744073709551616", "-9223372036854775809",
        "\"requestId\":", "\"request_id\":", "\"timeoutMs\":", "\x80", "\xc3\x28", "\xe0\x80\x80",
        "\xed\xa0\x80", std::string(1, '\0'), "\x7f");
    const auto at = *rc::gen::inRange<std::size_t>(0, text.size() + 1);
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        text.insert(at, token);
        break;
      case 1:
        text.replace(at, token.size(), token);
        break;
      default:
        if (at < text.size()) text.erase(at, 1);
    }
  }
  M theirs;
  const bool protobuf_ok = protobuf_parse(text, theirs);
  M fast;
  const bool fast_ok = protocol::parse_plain_json(text, fast);
  RC_TAG(fast_ok ? "fast path" : protobuf_ok ? "declined, protobuf accepts" : "rejected");
  if (fast_ok) {
    RC_ASSERT(protobuf_ok);
    RC_ASSERT(same(fast, theirs));
  }
  auto decoded = protocol::from_json<M>(text);
  RC_ASSERT(decoded.has_value() == protobuf_ok);
  if (protobuf_ok) RC_ASSERT(same(*decoded, theirs));
}

TEST(PlainJsonProperty, DecodingArbitraryTextAgreesWithProtobuf) {
  check_property(1000, [] { decoding_agrees_with_protobuf<daemon_v1::ToolRequest>(); });
  check_property(1000, [] { decoding_agrees_with_protobuf<daemon_v1::ToolResponse>(); });
}

// Found by the protocol fuzzer: the parser took `true` from `truefalse`, failed on the `f`
// after it, and then read `false` from where `true` had ended.
TEST(PlainJson, ALiteralGluedToAnotherIsDeclined) {
  const std::string glued =
      R"({"requestId":"r1","success":truefalse,"content":"hi\n","metadataJson":"{}"})";
  daemon_v1::ToolResponse fast;
  EXPECT_FALSE(protocol::parse_plain_json(glued, fast));
  EXPECT_FALSE(protocol::from_json<daemon_v1::ToolResponse>(glued).has_value());
  ASSERT_TRUE(protocol::parse_plain_json(R"({"success":true,"isError":false})", fast));
  EXPECT_TRUE(fast.success());
  EXPECT_FALSE(fast.is_error());
}

TEST(PlainJson, WhatItDeclinesProtobufStillJudges) {
  // Unknown and duplicated fields, null, a fraction, invalid UTF-8, a lone surrogate.
  for (const std::string text :
       {R"({"requestId":"a","nope":1})", R"({"requestId":"a","request_id":"b"})",
        R"({"requestId":null})", R"({"timeoutMs":1.5})", "{\"requestId\":\"\xff\"}",
        R"({"requestId":"\ud800"})", R"({"requestId":"\udc00"})"}) {
    daemon_v1::ToolRequest fast;
    EXPECT_FALSE(protocol::parse_plain_json(text, fast)) << text;
    daemon_v1::ToolRequest theirs;
    auto decoded = protocol::from_json<daemon_v1::ToolRequest>(text);
    EXPECT_EQ(decoded.has_value(), protobuf_parse(text, theirs)) << text;
    if (!decoded) {
      EXPECT_NE(decoded.error().message.find("invalid reliant.daemon.v1.ToolRequest JSON"),
                std::string::npos)
          << decoded.error().message;
    }
  }
  EXPECT_FALSE(
      protocol::from_json<daemon_v1::ToolRequest>(R"({"requestId":"a","nope":1})").has_value());
}

TEST(PlainJson, PrintingInvalidUtf8FallsBackToProtobuf) {
  daemon_v1::ToolResponse response;
  response.set_content("ok \xc3\x28 bad");
  EXPECT_FALSE(protocol::print_plain_json(response).has_value());
  EXPECT_EQ(protocol::to_json(response), protobuf_print(response));
}

TEST(PlainJson, TypesWithMapsOneofsOrFloatsAreNotPlain) {
  EXPECT_TRUE(protocol::is_plain(daemon_v1::ToolRequest::descriptor()));
  EXPECT_TRUE(protocol::is_plain(api_v1::GetChatResponse::descriptor()));
  EXPECT_FALSE(protocol::is_plain(api_v1::Daemon::descriptor()));               // a map
  EXPECT_FALSE(protocol::is_plain(daemon_v1::GatewayFrame::descriptor()));      // a oneof
  EXPECT_FALSE(protocol::is_plain(api_v1::ListDaemonsResponse::descriptor()));  // holds Daemon
}

}  // namespace
}  // namespace reliant::property
