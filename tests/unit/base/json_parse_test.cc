// Depth-bounded JSON parsing (issue 15): nesting up to the bound parses as nlohmann would, one
// level more is refused with where it happened, 100,000 levels are refused without a crash,
// brackets inside strings do not count, and the bracket scan agrees with the parser.
#include <gtest/gtest.h>

#include <string>

#include "base/json_parse.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

// `levels` arrays, one inside the other: [[[…]]].
std::string nested_arrays(std::size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

// `levels` objects, one inside the other: {"a":{"a":…{}…}}. Each opening takes 5 bytes.
std::string nested_objects(std::size_t levels) {
  std::string text;
  for (std::size_t i = 1; i < levels; ++i) text += "{\"a\":";
  text += "{}";
  text.append(levels - 1, '}');
  return text;
}

void expect_too_deep(const Result<Json>& parsed, const std::string& message) {
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(parsed.error().message, message);
}

TEST(JsonParse, TheBoundsAreNamedAndStoredDocumentsGetMore) {
  EXPECT_EQ(kJsonDepthMax, 64u);
  EXPECT_GT(kStoredJsonDepthMax, kJsonDepthMax)
      << "stored documents wrap input that passed kJsonDepthMax";
}

TEST(JsonParse, ParsesWhatNlohmannParses) {
  const std::string text = R"({"a":[1,2.5,"x",true,null,{"b":{}}],"c":-3,"d":"\u00e9\"[{"})";
  auto parsed = parse_json(text);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ(*parsed, Json::parse(text));
  EXPECT_EQ(parse_json("7").value(), Json(7)) << "a scalar is a document";
  EXPECT_EQ(parse_json(" \n[] \t").value(), Json::array()) << "whitespace around it";
  EXPECT_EQ(parse_json_or_discarded(text), Json::parse(text));
}

TEST(JsonParse, NestingUpToTheBoundParses) {
  auto arrays = parse_json(nested_arrays(kJsonDepthMax));
  ASSERT_TRUE(arrays.has_value()) << arrays.error().message;
  EXPECT_EQ(*arrays, Json::parse(nested_arrays(kJsonDepthMax)));
  auto objects = parse_json(nested_objects(kJsonDepthMax));
  ASSERT_TRUE(objects.has_value()) << objects.error().message;
  EXPECT_EQ(*objects, Json::parse(nested_objects(kJsonDepthMax)));
  // Siblings at the bound: closing a level gives it back.
  const std::string inner = nested_arrays(kJsonDepthMax - 1);
  EXPECT_TRUE(parse_json("[" + inner + "," + inner + "," + inner + "]").has_value());
  EXPECT_TRUE(check_json_depth("[" + inner + "," + inner + "]").has_value());
  EXPECT_TRUE(check_json_depth(nested_objects(kJsonDepthMax)).has_value());
}

TEST(JsonParse, OneLevelMoreIsRefusedWithItsOffset) {
  // The 65th '[' is byte 64; the 65th '{' is byte 5 * 64.
  expect_too_deep(parse_json(nested_arrays(kJsonDepthMax + 1)),
                  "JSON nested deeper than 64 levels at byte 64");
  expect_too_deep(parse_json(nested_objects(kJsonDepthMax + 1)),
                  "JSON nested deeper than 64 levels at byte 320");
  // Mixed, after a shallow sibling: {"x":[1],"y":[[…]]}.
  const std::string mixed =
      R"({"x":[1],"y":)" + nested_arrays(kJsonDepthMax) + "}";  // 1 + 64 levels
  expect_too_deep(parse_json(mixed), "JSON nested deeper than 64 levels at byte " +
                                         std::to_string(13 + kJsonDepthMax - 1));
  EXPECT_TRUE(parse_json_or_discarded(nested_arrays(kJsonDepthMax + 1)).is_discarded());
}

TEST(JsonParse, AHundredThousandLevelsAreRefusedWithoutACrash) {
  constexpr std::size_t kLevels = 100'000;
  const std::string closed = nested_arrays(kLevels);
  expect_too_deep(parse_json(closed), "JSON nested deeper than 64 levels at byte 64");
  // Unterminated: refused for its depth before the parser reaches the end.
  expect_too_deep(parse_json(std::string(kLevels, '[')),
                  "JSON nested deeper than 64 levels at byte 64");
  expect_too_deep(parse_json(nested_objects(kLevels)),
                  "JSON nested deeper than 64 levels at byte 320");
  EXPECT_TRUE(parse_json_or_discarded(closed).is_discarded());
  EXPECT_TRUE(parse_json_or_discarded(nested_objects(kLevels), kStoredJsonDepthMax).is_discarded());
  const auto scanned = check_json_depth(closed);
  ASSERT_FALSE(scanned.has_value());
  EXPECT_EQ(scanned.error().message, "JSON nested deeper than 64 levels at byte 64");
}

TEST(JsonParse, BracketsInsideStringsDoNotCount) {
  const std::string brackets = std::string(1000, '[') + std::string(1000, '{');
  const std::string in_string = "[\"" + brackets + "\"]";
  auto parsed = parse_json(in_string);
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  EXPECT_EQ((*parsed)[0].get<std::string>(), brackets);
  EXPECT_TRUE(check_json_depth(in_string).has_value());
  // An escaped quote does not end the string; an escaped backslash does not hide the quote after
  // it, so the brackets that follow are counted.
  EXPECT_TRUE(parse_json("[\"\\\"" + brackets + "\"]").has_value());
  EXPECT_TRUE(check_json_depth("[\"\\\"" + brackets + "\"]").has_value());
  const std::string after_backslash = "[\"\\\\\"," + nested_arrays(kJsonDepthMax) + "]";
  expect_too_deep(parse_json(after_backslash), "JSON nested deeper than 64 levels at byte 69");
  EXPECT_FALSE(check_json_depth(after_backslash).has_value());
  // protobuf's parser also reads '…' strings: the scan skips them, but a ' inside a "…" string
  // opens nothing.
  EXPECT_TRUE(check_json_depth("{\"a\":'" + brackets + "'}").has_value());
  const std::string apostrophe = "[\"it's\"," + nested_arrays(kJsonDepthMax) + "]";
  EXPECT_FALSE(check_json_depth(apostrophe).has_value());
  EXPECT_FALSE(parse_json(apostrophe).has_value());
}

TEST(JsonParse, TheBoundIsTheCallers) {
  EXPECT_TRUE(parse_json("[[1]]", 2).has_value());
  expect_too_deep(parse_json("[[[1]]]", 2), "JSON nested deeper than 2 levels at byte 2");
  EXPECT_TRUE(parse_json("\"x\"", 0).has_value()) << "a scalar has no depth";
  EXPECT_FALSE(parse_json("{}", 0).has_value());
  const std::string stored = nested_objects(kStoredJsonDepthMax);
  EXPECT_TRUE(parse_json(stored, kStoredJsonDepthMax).has_value());
  EXPECT_FALSE(parse_json(stored).has_value());
  EXPECT_TRUE(check_json_depth(stored, kStoredJsonDepthMax).has_value());
  EXPECT_FALSE(
      check_json_depth(nested_objects(kStoredJsonDepthMax + 1), kStoredJsonDepthMax).has_value());
}

TEST(JsonParse, MalformedTextIsRefusedWithNlohmannsMessage) {
  for (const std::string bad : {"", "{\"a\": ", "{} x", "[1,]", "{'a': 1}", "nul", "[\"\x01\"]"}) {
    auto parsed = parse_json(bad);
    ASSERT_FALSE(parsed.has_value()) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::invalid_argument) << bad;
    EXPECT_EQ(parsed.error().message.rfind("parse error at line ", 0), 0u)
        << "without nlohmann's [json.exception…] tag: " << parsed.error().message;
    EXPECT_TRUE(parse_json_or_discarded(bad).is_discarded()) << bad;
  }
  // A syntax error before the bound is a syntax error, not a depth refusal.
  const auto cut = parse_json("[[[}" + nested_arrays(kJsonDepthMax + 1));
  ASSERT_FALSE(cut.has_value());
  EXPECT_EQ(cut.error().message.rfind("parse error", 0), 0u) << cut.error().message;
}

TEST(JsonParse, TheScanNeverCountsLessAfterAStrayCloser) {
  // A parser stops at the stray ']'; the scan, counting on, must still see 65 levels after it.
  const auto scanned = check_json_depth("]]]]" + nested_arrays(kJsonDepthMax + 1));
  ASSERT_FALSE(scanned.has_value());
  EXPECT_EQ(scanned.error().message, "JSON nested deeper than 64 levels at byte 68");
  EXPECT_TRUE(check_json_depth("]]]]" + nested_arrays(kJsonDepthMax)).has_value());
}

}  // namespace
}  // namespace reliant
