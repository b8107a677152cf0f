// parse_json's two readers (base/json_parse_paths.h) on random documents: simdjson's path, where
// it answers, gives nlohmann's value with nlohmann's number types; it never accepts what
// nlohmann refuses; and parse_json answers as nlohmann alone would, error messages included.
// Documents are random values printed with random spacing and escapes, some with one byte
// changed, so malformed text and edge numbers both come up.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <nlohmann/json.hpp>

#include "base/json_parse.h"
#include "base/json_parse_paths.h"
#include "property/property_check.h"

namespace reliant::property {
namespace {

using Json = nlohmann::json;

// Number texts nlohmann and simdjson might read differently: signs, zeros, the 64-bit edges and
// beyond, exponents that overflow or underflow.
const std::vector<std::string>& edge_numbers() {
  // clang-format off
  static const std::vector<std::string> numbers = {
      "0", "-0", "0.0", "-0.0", "1", "-1", "01", "1.", ".5", "+1", "-",
      "1e2", "1E+2", "1e-2", "0.1", "1.5e300", "2.5e-308", "1e400", "-1e400", "1e-400",
      "9223372036854775807", "9223372036854775808", "-9223372036854775808",
      "-9223372036854775809", "18446744073709551615", "18446744073709551616",
      "123456789012345678901234567890"};
  // clang-format on
  return numbers;
}

// String bodies with escapes, surrogates (paired and not), control characters and UTF-8.
const std::vector<std::string>& edge_strings() {
  // clang-format off
  static const std::vector<std::string> strings = {
      "", "plain", "\\\"quoted\\\"", "a\\nb\\tc", "\\/", "\\x",
      "\\u0041", "\\u0000", "\\ud83d\\ude00", "\\ud800", "\\udc00x",
      "caf\xC3\xA9", "\xF0\x9F\x98\x80", "\xff", "\x01"};
  // clang-format on
  return strings;
}

// A random document's text, built directly (not through nlohmann's printer) so that it can hold
// spellings a printer never writes.
std::string random_text(int depth) {
  const auto space = [] { return *rc::gen::element<std::string>("", " ", "\n", "\t ", "\r\n"); };
  const int kind = *rc::gen::inRange(0, depth > 0 ? 7 : 5);
  switch (kind) {
    case 0:
      return *rc::gen::elementOf(edge_numbers());
    case 1:
      return std::to_string(*rc::gen::arbitrary<std::int64_t>());
    case 2:
      return '"' + *rc::gen::elementOf(edge_strings()) + '"';
    case 3:
      return *rc::gen::element<std::string>("true", "false", "null");
    case 4:
      return std::to_string(*rc::gen::arbitrary<double>());
    case 5: {
      std::string out = "[" + space();
      const int n = *rc::gen::inRange(0, 4);
      for (int i = 0; i < n; ++i) {
        if (i > 0) out += "," + space();
        out += random_text(depth - 1);
      }
      return out + space() + "]";
    }
    default: {
      std::string out = "{" + space();
      const int n = *rc::gen::inRange(0, 4);
      for (int i = 0; i < n; ++i) {
        if (i > 0) out += ",";
        // Few distinct keys, so repeated keys come up.
        out += space() + '"' + *rc::gen::element<std::string>("a", "b", "\\u0061", "k") + '"' +
               space() + ":" + space() + random_text(depth - 1);
      }
      return out + space() + "}";
    }
  }
}

// One byte of `text` replaced, removed or doubled, now and then.
std::string maybe_damaged(std::string text) {
  if (text.empty() || !*rc::gen::weightedElement<bool>({{3, false}, {1, true}})) return text;
  const auto at = *rc::gen::inRange<std::size_t>(0, text.size());
  switch (*rc::gen::inRange(0, 3)) {
    case 0:
      text[at] = *rc::gen::element<char>('"', '\\', ',', ']', '}', '-', '0', 'e', '\xEF', ' ');
      break;
    case 1:
      text.erase(at, 1);
      break;
    default:
      text.insert(at, 1, text[at]);
      break;
  }
  return text;
}

TEST(JsonParsePaths, SimdjsonAnswersOnlyWhereNlohmannAgreesAndParseJsonIsNlohmann) {
  check_property(3000, [] {
    const std::string text = maybe_damaged(random_text(*rc::gen::inRange(0, 5)));
    const std::size_t depth_max = *rc::gen::element<std::size_t>(2, 3, kJsonDepthMax);
    RC_TAG(json_paths::parse_fast(text, depth_max) ? "simdjson answered" : "nlohmann answered");
    if (const auto disagreement = json_paths::disagreement(text, depth_max)) RC_FAIL(*disagreement);
  });
}

// Numbers keep nlohmann's types through the fast path: unsigned without a sign, signed with
// one, float with a point or an exponent.
TEST(JsonParsePaths, NumbersKeepNlohmannsTypes) {
  const auto fast = json_paths::parse_fast("[1, -1, 1.0, 1e2, 18446744073709551615]", 8);
  ASSERT_TRUE(fast.has_value());
  EXPECT_TRUE((*fast)[0].is_number_unsigned());
  EXPECT_TRUE((*fast)[1].is_number_integer() && !(*fast)[1].is_number_unsigned());
  EXPECT_TRUE((*fast)[2].is_number_float());
  EXPECT_TRUE((*fast)[3].is_number_float());
  EXPECT_EQ((*fast)[4].get<std::uint64_t>(), std::numeric_limits<std::uint64_t>::max());
  // "-0" is a signed zero to nlohmann; the fast path leaves such documents to it.
  EXPECT_FALSE(json_paths::parse_fast("[-0]", 8).has_value());
  const auto zero = parse_json("[-0]");
  ASSERT_TRUE(zero.has_value());
  EXPECT_TRUE((*zero)[0].is_number_integer() && !(*zero)[0].is_number_unsigned());
}

// Too deep for the bound: the fast path declines and parse_json names the bracket.
TEST(JsonParsePaths, TooDeepIsLeftToTheExactReader) {
  EXPECT_FALSE(json_paths::parse_fast("[[[1]]]", 2).has_value());
  EXPECT_TRUE(json_paths::parse_fast("[[1]]", 2).has_value());
  const auto parsed = parse_json("[[[1]]]", 2);
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().message, "JSON nested deeper than 2 levels at byte 2");
}

}  // namespace
}  // namespace reliant::property
