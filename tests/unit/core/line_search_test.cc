// Grep's matching (core/line_search.h): RE2 patterns in linear time — the inputs that froze a
// monolith under std::regex end in milliseconds — and the line search's limits: binary files,
// line ends, cut lines, the shown-bytes budget and the clock.
#include "core/line_search.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace reliant {
namespace {

std::shared_ptr<const LineMatcher> regex(std::string_view pattern, bool ignore_case = false) {
  auto matcher = make_regex_matcher(pattern, ignore_case);
  EXPECT_TRUE(matcher.has_value()) << pattern;
  return matcher.value_or(nullptr);
}

// issue 38, finding 4: `(x+x+)+y` against one 40-character line froze a monolith for good, and
// `.*zzz` over 800 KB of 4 KB lines for 75 s. Linear time: both well under a second.
TEST(LineSearch, PatternsThatBacktrackingTakesForeverEndInLinearTime) {
  const std::string one_line = std::string(40, 'x') + "\n";
  std::string long_lines;
  for (int i = 0; i < 200; ++i) long_lines += std::string(4095, 'a') + "\n";
  struct Case {
    std::string pattern;
    const std::string& text;
  };
  for (const Case& c : {Case{"(x+x+)+y", one_line}, Case{".*zzz", long_lines},
                        Case{"(a|a)*b", long_lines}, Case{"(a*)*$x", long_lines}}) {
    const auto started = std::chrono::steady_clock::now();
    auto found = search_lines(c.text, *regex(c.pattern), FileSearchLimits{});
    const auto took = std::chrono::steady_clock::now() - started;
    ASSERT_TRUE(found.has_value()) << c.pattern;
    EXPECT_TRUE(found->lines.empty()) << c.pattern;
    EXPECT_EQ(found->bytes, c.text.size());
    EXPECT_LT(took, std::chrono::seconds(1)) << c.pattern;
  }
}

TEST(LineSearch, TakesRe2SyntaxAndRefusesWhatRe2DoesNotMatch) {
  EXPECT_TRUE(regex("^int \\w+;")->matches("int c; // x"));
  EXPECT_TRUE(regex("return \\d")->matches("  return 0;"));
  EXPECT_TRUE(regex("todo", true)->matches("// TODO"));
  EXPECT_FALSE(regex("todo")->matches("// TODO"));
  EXPECT_TRUE(regex("(?i)todo")->matches("// TODO")) << "RE2's inline flags";
  for (const std::string bad : {"(unclosed", "(a)\\1", "a(?=b)", "x{2,1}"}) {
    auto refused = make_regex_matcher(bad, false);
    ASSERT_FALSE(refused.has_value()) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument);
    EXPECT_FALSE(refused.error().message.empty());
  }
  auto huge = make_regex_matcher("((((a{100}){100}){100}){100})", false);
  ASSERT_FALSE(huge.has_value()) << "a pattern too large compiled is refused, not built";
}

TEST(LineSearch, KeepsMatchingLinesWithinItsLimits) {
  const std::string text =
      "one TODO\r\nplain\n" + std::string(30, 'x') + " TODO\n\xE2\x82\xAC TODO";
  FileSearchLimits limits;
  limits.shown_line_bytes_max = 2;
  auto found = search_lines(text, *regex("TODO$"), limits);
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->lines.size(), 3u) << "the CR of a CRLF line end is not part of the line";
  EXPECT_EQ(found->lines[0].number, 1u);
  EXPECT_EQ(found->lines[0].text, "on");
  EXPECT_TRUE(found->lines[0].cut);
  EXPECT_EQ(found->lines[1].number, 3u);
  EXPECT_EQ(found->lines[2].number, 4u);
  EXPECT_EQ(found->lines[2].text, "") << "never half of the euro sign";
  EXPECT_FALSE(found->stopped);

  limits = FileSearchLimits{};
  limits.line_bytes_searched_max = 10;
  found = search_lines(text, *regex("TODO"), limits);
  ASSERT_TRUE(found.has_value());
  ASSERT_EQ(found->lines.size(), 2u) << "past the searched part of a line nothing matches";
  EXPECT_EQ(found->lines[1].number, 4u);

  limits = FileSearchLimits{};
  limits.shown_bytes_max = 5;
  found = search_lines(text, *regex("TODO"), limits);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->lines.size(), 1u) << "the budget is spent by the first line";
  EXPECT_TRUE(found->stopped);

  found = search_lines(std::string("a\0TODO", 6), *regex("TODO"), FileSearchLimits{});
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->binary);
  EXPECT_TRUE(found->lines.empty());
}

TEST(LineSearch, StopsWhenItsTimeIsUp) {
  std::string text;
  for (int i = 0; i < 10'000; ++i) text += "line\n";
  int asked = 0;
  auto found =
      search_lines(text, *regex("nothing"), FileSearchLimits{}, [&asked] { return ++asked == 3; });
  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, ErrorCode::timeout);
  EXPECT_EQ(asked, 3);
}

}  // namespace
}  // namespace reliant
