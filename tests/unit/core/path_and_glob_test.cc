// Lexical paths and glob patterns: the pure string logic under the daemon's file tools.
#include <gtest/gtest.h>

#include "core/glob_pattern.h"
#include "core/path.h"

namespace reliant {
namespace {

TEST(Path, NormalizesLexically) {
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(normalize_path("//a//b/"), "/a/b");
  EXPECT_EQ(normalize_path("/a/./b/../c"), "/a/c");
  EXPECT_EQ(normalize_path("/../../x"), "/x") << "never above the root";
  EXPECT_EQ(resolve_path("/work", "src/a.cc"), "/work/src/a.cc");
  EXPECT_EQ(resolve_path("/work", "/etc/hosts"), "/etc/hosts");
  EXPECT_EQ(resolve_path("/work", ""), "/work");
  EXPECT_EQ(resolve_path("/work", ".."), "/");
  EXPECT_EQ(join_path("/", "a"), "/a");
  EXPECT_EQ(parent_path("/a/b"), "/a");
  EXPECT_EQ(parent_path("/a"), "/");
  EXPECT_EQ(file_name("/a/b.txt"), "b.txt");
}

TEST(Path, DisplaysRelativeOnlyInside) {
  EXPECT_TRUE(path_within("/work", "/work/a"));
  EXPECT_TRUE(path_within("/work", "/work"));
  EXPECT_FALSE(path_within("/work", "/workshop/a"));
  EXPECT_TRUE(path_within("/", "/anything"));
  EXPECT_EQ(display_path("/work", "/work/src/a.cc"), "src/a.cc");
  EXPECT_EQ(display_path("/work", "/work"), ".");
  EXPECT_EQ(display_path("/work", "/workshop"), "/workshop");
  EXPECT_EQ(display_path("/", "/etc"), "etc");
}

TEST(Glob, MatchesSegments) {
  EXPECT_TRUE(glob_match_segment("*.cc", "a.cc"));
  EXPECT_FALSE(glob_match_segment("*.cc", "a.cch"));
  EXPECT_TRUE(glob_match_segment("a?c", "abc"));
  EXPECT_FALSE(glob_match_segment("a?c", "ac"));
  EXPECT_TRUE(glob_match_segment("[a-c]x", "bx"));
  EXPECT_FALSE(glob_match_segment("[!a-c]x", "bx"));
  EXPECT_TRUE(glob_match_segment("[!a-c]x", "dx"));
  EXPECT_TRUE(glob_match_segment("a\\*", "a*"));
  EXPECT_FALSE(glob_match_segment("a\\*", "ab"));
  EXPECT_TRUE(glob_match_segment("[x", "[x")) << "an unclosed class is literal";
  EXPECT_TRUE(glob_match_segment("*a*b*c*", "xxaxxbxxcxx"));
  EXPECT_FALSE(glob_match_segment("*", ".env")) << "hidden names need an explicit dot";
  EXPECT_TRUE(glob_match_segment(".*", ".env"));
  EXPECT_TRUE(glob_match_segment(std::string(30, '*') + "b", std::string(40, 'a') + "b"));
}

TEST(Glob, MatchesPathsWithDoubleStar) {
  EXPECT_TRUE(glob_match_path("**/*.cc", "a.cc"));
  EXPECT_TRUE(glob_match_path("**/*.cc", "x/y/a.cc"));
  EXPECT_TRUE(glob_match_path("src/**/test/*.cc", "src/test/a.cc"));
  EXPECT_TRUE(glob_match_path("src/**/test/*.cc", "src/a/b/test/a.cc"));
  EXPECT_FALSE(glob_match_path("src/*.cc", "src/a/b.cc"));
  EXPECT_FALSE(glob_match_path("**/*.cc", ".git/a.cc")) << "** does not enter hidden dirs";
  EXPECT_TRUE(glob_match_path("**", "a/b/c"));
  EXPECT_TRUE(glob_match_path("a/**", "a/b/c"));
}

TEST(Glob, ExpandsBraces) {
  auto one = expand_glob_braces("src/*.{h,cc}");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, (std::vector<std::string>{"src/*.h", "src/*.cc"}));
  auto nested = expand_glob_braces("{a,b{1,2}}/{x,y}");
  ASSERT_TRUE(nested.has_value());
  EXPECT_EQ(*nested, (std::vector<std::string>{"a/x", "a/y", "b1/x", "b1/y", "b2/x", "b2/y"}));
  EXPECT_EQ(*expand_glob_braces("plain"), (std::vector<std::string>{"plain"}));
  EXPECT_EQ(*expand_glob_braces("\\{a,b\\}"), (std::vector<std::string>{"\\{a,b\\}"}));
  EXPECT_FALSE(expand_glob_braces("{a,b").has_value());
  EXPECT_FALSE(expand_glob_braces("a}").has_value());
  EXPECT_FALSE(expand_glob_braces("{a,b}{c,d}{e,f}", 4).has_value()) << "bounded";
}

}  // namespace
}  // namespace reliant
