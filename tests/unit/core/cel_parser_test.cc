// The CEL parser: literals and their escapes, precedence, macros' shapes, positions of errors,
// the bounds on size and nesting, and the printer's canonical spelling.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "core/cel/parser.h"
#include "core/cel/printer.h"

namespace reliant::cel {
namespace {

// The canonical spelling of `source`, or the error as describe() gives it.
std::string canonical(const std::string& source) {
  auto tree = parse(source);
  if (!tree) return "error: " + describe(tree.error(), source);
  return to_source(*tree);
}

Constant constant_of(const std::string& source) {
  auto tree = parse(source);
  EXPECT_TRUE(tree.has_value()) << describe(tree.error(), source);
  if (!tree) return nullptr;
  const auto* constant = std::get_if<Constant>(&tree->node);
  EXPECT_NE(constant, nullptr) << source << " is not a literal";
  return constant ? *constant : Constant{nullptr};
}

TEST(CelParser, ReadsEveryKindOfLiteral) {
  EXPECT_EQ(constant_of("null"), Constant(nullptr));
  EXPECT_EQ(constant_of("true"), Constant(true));
  EXPECT_EQ(constant_of("42"), Constant(std::int64_t{42}));
  EXPECT_EQ(constant_of("0x2A"), Constant(std::int64_t{42}));
  EXPECT_EQ(constant_of("42u"), Constant(std::uint64_t{42}));
  EXPECT_EQ(constant_of("0xFFFFFFFFFFFFFFFFu"),
            Constant(std::numeric_limits<std::uint64_t>::max()));
  EXPECT_EQ(constant_of("-9223372036854775808"),
            Constant(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(constant_of("2.5"), Constant(2.5));
  EXPECT_EQ(constant_of("1e3"), Constant(1000.0));
  EXPECT_EQ(constant_of(".5"), Constant(0.5));
  EXPECT_EQ(constant_of("-2.5"), Constant(-2.5));
  EXPECT_EQ(constant_of("'a\\n\\x41\\u00e9\\U0001F600\\101'"),
            Constant(std::string("a\nA\xc3\xa9\xf0\x9f\x98\x80"
                                 "A")));
  EXPECT_EQ(constant_of("r'a\\n'"), Constant(std::string("a\\n")));
  EXPECT_EQ(constant_of("\"\"\"two\nlines\"\"\""), Constant(std::string("two\nlines")));
  EXPECT_EQ(constant_of("b'\\xff\\000'"), Constant(Bytes{std::string("\xff\0", 2)}));
  EXPECT_EQ(constant_of("b'\xc3\xa9'"), Constant(Bytes{"\xc3\xa9"}));
}

TEST(CelParser, RefusesMalformedLiteralsWhereTheyStart) {
  EXPECT_EQ(canonical("1 + 9223372036854775808"),
            "error: column 5: integer literal out of range: 9223372036854775808");
  EXPECT_EQ(canonical("18446744073709551616u"),
            "error: column 1: integer literal out of range: 18446744073709551616u");
  EXPECT_EQ(canonical("1e999"), "error: column 1: floating-point literal out of range: 1e999");
  EXPECT_EQ(canonical("'abc"), "error: column 1: unterminated string literal");
  EXPECT_EQ(canonical("'a\\qb'"), "error: column 3: invalid escape sequence \\q");
  EXPECT_EQ(canonical("'\\ud800'"),
            "error: column 2: escape sequence is not a Unicode scalar value");
  EXPECT_EQ(canonical("b'\\u0041'"),
            "error: column 3: \\u escapes are not allowed in bytes literals");
  EXPECT_EQ(canonical("'a\nb'"),
            "error: line 1, column 3: newline in a single-quoted string literal (use triple "
            "quotes)");
  EXPECT_EQ(canonical("'\xff'"), "error: column 2: invalid UTF-8 in a string literal");
}

TEST(CelParser, BindsOperatorsByPrecedence) {
  EXPECT_EQ(canonical("a || b && c == d + e * -f"), "a || b && c == d + e * -f");
  EXPECT_EQ(canonical("(a || b) && c"), "(a || b) && c");
  EXPECT_EQ(canonical("a - (b - c)"), "a - (b - c)");
  EXPECT_EQ(canonical("(a - b) - c"), "a - b - c");
  EXPECT_EQ(canonical("a ? b : c ? d : e"), "a ? b : c ? d : e");
  EXPECT_EQ(canonical("(a ? b : c) ? d : e"), "(a ? b : c) ? d : e");
  EXPECT_EQ(canonical("x in [1, 2] && !!y"), "x in [1, 2] && !!y");
  EXPECT_EQ(canonical("-(1)"), "-(1)");
  EXPECT_EQ(canonical("- -1"), "-(-1)");
  EXPECT_EQ(canonical("!(-1)"), "!(-1)");
  EXPECT_EQ(canonical("-1.abs()"), "(-1).abs()");
}

TEST(CelParser, ReadsMembersCallsAndCollections) {
  EXPECT_EQ(canonical("nodes.?review.output.orValue('')"), "nodes.?review.output.orValue(\"\")");
  EXPECT_EQ(canonical("m[?'k'].hasValue()"), "m[?\"k\"].hasValue()");
  EXPECT_EQ(canonical("[1, ?x, ]"), "[1, ?x]");
  EXPECT_EQ(canonical("{'a': 1, ?'b': y,}"), "{\"a\": 1, ?\"b\": y}");
  EXPECT_EQ(canonical(".root.child"), ".root.child");
  EXPECT_EQ(canonical("google.protobuf.Int64Value{value: 3}"),
            "google.protobuf.Int64Value{value: 3}");
  EXPECT_EQ(canonical("size(xs) > 0 && xs.all(x, x > 0)"), "size(xs) > 0 && xs.all(x, x > 0)");
  EXPECT_EQ(canonical("a.b // a comment\n + 1"), "a.b + 1");
}

TEST(CelParser, BuildsChainsOfAndAndOrBalanced) {
  std::string chain = "a0";
  for (int i = 1; i < 1000; ++i) chain += " || a" + std::to_string(i);
  auto tree = parse(chain);
  ASSERT_TRUE(tree.has_value()) << describe(tree.error(), chain);
  // 1,000 operands as a balanced tree: about 10 levels, far under the height bound.
  const Expr* node = &*tree;
  int depth = 0;
  while (const auto* call = std::get_if<Call>(&node->node)) {
    node = &call->args[0];
    ++depth;
  }
  EXPECT_LE(depth, 10);
}

TEST(CelParser, RefusesMistakesWithTheirColumn) {
  EXPECT_EQ(canonical("a +"), "error: column 4: unexpected end of expression");
  EXPECT_EQ(canonical("(a + b"), "error: column 7: expected ')' before the end");
  EXPECT_EQ(canonical("a b"), "error: column 3: unexpected name 'b'");
  EXPECT_EQ(canonical("a # b"), "error: column 3: unexpected character '#'");
  EXPECT_EQ(canonical("while + 1"), "error: column 1: 'while' is a reserved word");
  EXPECT_EQ(canonical("!-a"), "error: column 2: unexpected '-'");
  EXPECT_EQ(canonical("has(a)"),
            "error: column 5: has() takes a field selection, such as has(a.b)");
  EXPECT_EQ(canonical("xs.all(x.y, true)"),
            "error: column 9: all() needs a variable name as its first argument");
  EXPECT_EQ(canonical("a.\n  ?"), "error: line 2, column 4: expected a field name after '.'");
  EXPECT_EQ(canonical("'caf\xc3\xa9' + )"), "error: column 10: unexpected ')'");
}

TEST(CelParser, BoundsSourceSizeNestingAndHeight) {
  EXPECT_EQ(canonical(std::string(kSourceBytesMax + 1, ' ')),
            "error: column 100001: expression longer than 100000 bytes");
  const std::string nested =
      std::string(kNestingMax + 1, '(') + "1" + std::string(kNestingMax + 1, ')');
  EXPECT_EQ(canonical(nested), "error: column 251: expression nested deeper than 250");
  const std::string fine =
      std::string(kNestingMax - 1, '(') + "1" + std::string(kNestingMax - 1, ')');
  EXPECT_EQ(canonical(fine), "1");
  std::string sum = "1";
  for (int i = 0; i < kTreeHeightMax; ++i) sum += " + 1";
  EXPECT_NE(canonical(sum).find("nested deeper than 500"), std::string::npos);
  std::string unary(kTreeHeightMax + 1, '!');
  EXPECT_NE(canonical(unary + "a").find("nested deeper than 500"), std::string::npos);
}

TEST(CelPrinter, SpellsConstantsSoTheyReadBackExactly) {
  EXPECT_EQ(to_source(Constant(0.1)), "0.10000000000000001");
  EXPECT_EQ(to_source(Constant(3.0)), "3.0");
  EXPECT_EQ(to_source(Constant(-0.0)), "-0.0");
  EXPECT_EQ(to_source(Constant(std::string("q\"\\\n\x01\xc3\xa9"))),
            "\"q\\\"\\\\\\n\\u0001\xc3\xa9\"");
  EXPECT_EQ(to_source(Constant(Bytes{"a\xff"})), "b\"a\\xff\"");
  for (const char* source : {"-0.0", "0.10000000000000001", "b\"a\\xff\"", "\"\\u0001\""}) {
    auto tree = parse(source);
    ASSERT_TRUE(tree.has_value()) << source;
    EXPECT_EQ(to_source(*tree), source);
  }
}

}  // namespace
}  // namespace reliant::cel
