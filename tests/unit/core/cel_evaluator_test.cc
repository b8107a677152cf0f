// The CEL evaluator: arithmetic and its overflow errors, heterogeneous equality, error absorption
// by && and || in both orders, macros, optionals, conversions, qualified names and the budget.
#include <gtest/gtest.h>

#include <string>

#include "core/cel/evaluator.h"
#include "core/cel/parser.h"
#include "unit/core/cel_run.h"

namespace reliant::cel {
namespace {

TEST(CelEvaluator, ComputesArithmeticAndRefusesOverflow) {
  EXPECT_EQ(run("1 + 2 * 3 - 4 / 2 % 3"), "5");
  EXPECT_EQ(run("7u / 2u"), "3");
  EXPECT_EQ(run("2.5 * 2.0"), "5.0");
  EXPECT_EQ(run("9223372036854775807 + 1"), "error: int overflow");
  EXPECT_EQ(run("-9223372036854775808 / -1"), "error: int overflow");
  EXPECT_EQ(run("-(-9223372036854775808)"), "error: int overflow");
  EXPECT_EQ(run("0u - 1u"), "error: uint overflow");
  EXPECT_EQ(run("1 / 0"), "error: division by zero");
  EXPECT_EQ(run("1 % 0"), "error: modulus by zero");
  EXPECT_EQ(run("1 + 1u"), "error: no such overload: _+_(int, uint)");
  EXPECT_EQ(run("'a' + 'b' + \"c\""), "\"abc\"");
  EXPECT_EQ(run("[1] + [2, 3]"), "[1,2,3]");
}

TEST(CelEvaluator, ComparesAcrossNumericTypes) {
  EXPECT_EQ(run("1 == 1u && 1u == 1.0 && 2 > 1.5 && -1 < 0u"), "true");
  EXPECT_EQ(run("1 == '1'"), "false");
  EXPECT_EQ(run("[1, 'a'] == [1.0, 'a'] && {'k': 1} == {'k': 1u}"), "true");
  EXPECT_EQ(run("double('NaN') == double('NaN') || double('NaN') < 1.0"), "false");
  EXPECT_EQ(run("'a' < 1"), "error: no such overload: _<_(string, int)");
}

TEST(CelEvaluator, AndAndOrAbsorbErrorsInEitherOrder) {
  // Operands: true, false, an error, and a non-bool. a && b must equal b && a, errors included.
  const char* operands[] = {"true", "false", "(1 / 0 == 0)", "1"};
  for (const char* a : operands) {
    for (const char* b : operands) {
      for (const char* symbol : {" && ", " || "}) {
        const std::string ab = run(std::string(a) + symbol + b);
        const std::string ba = run(std::string(b) + symbol + a);
        EXPECT_EQ(ab.substr(0, 6) == "error:", ba.substr(0, 6) == "error:") << a << symbol << b;
        if (ab.substr(0, 6) != "error:") {
          EXPECT_EQ(ab, ba) << a << symbol << b;
        }
      }
    }
  }
  EXPECT_EQ(run("(1 / 0 == 0) && false"), "false");
  EXPECT_EQ(run("true || x.missing"), "true");
  EXPECT_EQ(run("(1 / 0 == 0) && true"), "error: division by zero");
  EXPECT_EQ(run("true ? 1 : 1 / 0"), "1");
  EXPECT_EQ(run("1 ? 2 : 3"), "error: no such overload: _?_:_(int)");
}

TEST(CelEvaluator, ReadsVariablesMapsAndLists) {
  const auto vars =
      nlohmann::json::parse(R"({"inputs": {"files": ["a.cc", "b.h"], "mode": "plan"}, "n": 3})");
  EXPECT_EQ(run("inputs.mode == 'plan' && size(inputs.files) == 2", vars), "true");
  EXPECT_EQ(run("inputs.files[1]", vars), "\"b.h\"");
  EXPECT_EQ(run("inputs.files[2]", vars), "error: index out of range: 2");
  EXPECT_EQ(run("inputs.missing", vars), "error: no such key: missing");
  EXPECT_EQ(run("has(inputs.mode) && !has(inputs.missing)", vars), "true");
  EXPECT_EQ(run("'a.cc' in inputs.files && 'mode' in inputs", vars), "true");
  EXPECT_EQ(run("n.field", vars), "error: type 'int' does not support field selection");
  EXPECT_EQ(run("nope + 1", vars), "error: undeclared reference to 'nope'");
  EXPECT_EQ(run("{'a': 1, 'a': 2}"), "error: repeated key in map literal");
  EXPECT_EQ(
      run("'h\xc3\xa9llo'.size() == 5 && 'hello'.startsWith('he') && 'hello'.endsWith('lo') && "
          "'hello'.contains('ell')"),
      "true");
}

TEST(CelEvaluator, ResolvesQualifiedNamesBeforeSelections) {
  Activation activation;
  activation.bind("a.b", Value(std::int64_t{5}));
  activation.bind("a", from_json({{"b", 1}, {"c", 2}}));
  auto tree = parse("a.b * 10 + a.c");
  ASSERT_TRUE(tree.has_value());
  auto value = evaluate(*tree, activation);
  ASSERT_TRUE(value.has_value()) << value.error().message;
  EXPECT_EQ(to_json(*value), 52);
  // A comprehension variable shadows a global of its name; a name from the root does not.
  const auto vars = nlohmann::json::parse(R"({"x": {"y": 5}})");
  EXPECT_EQ(run("[1].map(x, x)", vars), "[1]");
  EXPECT_EQ(run("[1].map(x, .x.y + x)", vars), "[6]");
}

TEST(CelEvaluator, ExpandsMacros) {
  EXPECT_EQ(run("[1, 2, 3].all(x, x > 0) && [1, 2, 3].exists(x, x == 2)"), "true");
  EXPECT_EQ(run("[1, 2, 3].exists_one(x, x > 1)"), "false");
  EXPECT_EQ(run("[1, 2, 3].map(x, x * 2)"), "[2,4,6]");
  EXPECT_EQ(run("[1, 2, 3].map(x, x > 1, x * 10)"), "[20,30]");
  EXPECT_EQ(run("[1, 2, 3].filter(x, x % 2 == 1)"), "[1,3]");
  EXPECT_EQ(run("{'a': 1, 'b': 2}.map(k, k + '!')"), "[\"a!\",\"b!\"]");
  // An element that fails does not matter once another decides.
  EXPECT_EQ(run("[0, 1].exists(x, 1 / x == 1)"), "true");
  EXPECT_EQ(run("[0, 1].all(x, 1 / x > 5)"), "false");
  EXPECT_EQ(run("[0, 1].all(x, 1 / x == 1)"), "error: division by zero");
  EXPECT_EQ(run("[[1, 2], [3]].map(x, x.map(x, x + 1))"), "[[2,3],[4]]");
}

TEST(CelEvaluator, HandlesOptionals) {
  const auto vars = nlohmann::json::parse(R"({"nodes": {"review": {"output": "ok"}}})");
  EXPECT_EQ(run("nodes.?review.output.orValue('none')", vars), "\"ok\"");
  EXPECT_EQ(run("nodes.?approve.output.orValue('none')", vars), "\"none\"");
  EXPECT_EQ(run("nodes.?approve.hasValue()", vars), "false");
  EXPECT_EQ(run("nodes[?'review'].value().output", vars), "\"ok\"");
  EXPECT_EQ(run("[1, ?optional.none(), ?optional.of(2)]"), "[1,2]");
  EXPECT_EQ(run("{?'a': optional.ofNonZeroValue(''), 'b': 1}"), "{\"b\":1}");
  EXPECT_EQ(run("optional.none().value()"), "error: optional.none() has no value");
}

TEST(CelEvaluator, ConvertsBetweenTypes) {
  EXPECT_EQ(run("int('42') + int(2.9) + int(7u)"), "51");
  EXPECT_EQ(run("int(9223372036854775808.0)"), "error: int overflow");
  EXPECT_EQ(run("uint(-1)"), "error: uint overflow");
  EXPECT_EQ(run("double('1.5') + double(1)"), "2.5");
  EXPECT_EQ(run("string(1.5) + string(2u) + string(true) + string(b'hi')"), "\"1.52truehi\"");
  EXPECT_EQ(run("string(b'\\xff')"), "error: bytes are not valid UTF-8");
  EXPECT_EQ(run("bool('true') && !bool('0')"), "true");
  EXPECT_EQ(run("int('x')"), "error: cannot convert 'x' to int");
  EXPECT_EQ(run("type(1) == int && type('') == string && type([]) == list"), "true");
  EXPECT_EQ(run("int([])"), "error: no such overload: int(list)");
  EXPECT_EQ(run("frobnicate(1)"), "error: undeclared reference to function 'frobnicate'");
}

TEST(CelEvaluator, StopsAtItsCostBudget) {
  const std::string explosive =
      "[1,2,3,4,5,6,7,8].map(a, [1,2,3,4,5,6,7,8].map(b, [1,2,3,4,5,6,7,8].map(c, "
      "[1,2,3,4,5,6,7,8].map(d, [1,2,3,4,5,6,7,8].map(e, a + b + c + d + e)))))";
  EXPECT_EQ(run(explosive, nlohmann::json::object(), EvalOptions{10'000}),
            "error: evaluation cost budget exceeded");
  // Running out of budget is not absorbed by || or exists().
  EXPECT_EQ(run("[1, 2, 3].exists(x, x > 2) || true", nlohmann::json::object(), EvalOptions{3}),
            "error: evaluation cost budget exceeded");
  EXPECT_EQ(run("[1, 2].exists(x, x == 2)", nlohmann::json::object(), EvalOptions{100}), "true");
  // Work on large inputs is charged by size: comparing a 10,000-element list with itself for
  // each of its elements would be 10^8 comparisons.
  nlohmann::json big = nlohmann::json::array();
  for (int i = 0; i < 10'000; ++i) big.push_back(i);
  EXPECT_EQ(run("l.all(x, l == l)", {{"l", big}}), "error: evaluation cost budget exceeded");
  EXPECT_EQ(run("l.all(x, 9999 in l)", {{"l", big}}), "error: evaluation cost budget exceeded");
  EXPECT_EQ(run("l == l && 9999 in l", {{"l", big}}), "true");
}

// Copies of a string kept in a list are charged by their bytes: twenty thousand copies of a
// mebibyte took twenty gigabytes for a few steps each.
TEST(CelEvaluator, ChargesTheTextAListKeeps) {
  const nlohmann::json mebibyte = std::string(1 << 20, 'a');
  nlohmann::json many = nlohmann::json::array();
  for (int i = 0; i < 20'000; ++i) many.push_back(i);
  const std::string budget_exceeded = "error: evaluation cost budget exceeded";
  EXPECT_EQ(run("size(l.map(x, s))", {{"l", many}, {"s", mebibyte}}), budget_exceeded);
  EXPECT_EQ(run("size(l.map(x, [s]))", {{"l", many}, {"s", mebibyte}}), budget_exceeded);
  EXPECT_EQ(run("size(l.map(x, {'k': s}))", {{"l", many}, {"s", mebibyte}}), budget_exceeded);
  EXPECT_EQ(run("size(l.map(x, optional.of(s)))", {{"l", many}, {"s", mebibyte}}), budget_exceeded);
  EXPECT_EQ(run("size([[s]].map(v, l.map(x, v + [])))", {{"l", many}, {"s", mebibyte}}),
            budget_exceeded);
  // A value borrowed whole is charged its walk: a step an element it holds.
  EXPECT_EQ(run("l", {{"l", many}}, EvalOptions{10'000}), budget_exceeded);
  EXPECT_EQ(run("size(l)", {{"l", many}}, EvalOptions{10'000}), "20000");
  EXPECT_EQ(run("size(l.filter(x, true))", {{"l", nlohmann::json::array({mebibyte})}}), "1");
  // Short texts cost what they did: a step an element.
  EXPECT_EQ(run("size(l.map(x, 'abc'))", {{"l", many}}), "20000");
  EXPECT_EQ(run("size(l.map(x, s))", {{"l", many}, {"s", "0123456789abcdef0123456789"}}), "20000");
}

// What an evaluation hands back is bounded: shared lists make a value of 10^9 elements written
// out from a few thousand steps, and a value fed back each loop iteration nests ever deeper.
TEST(CelEvaluator, RefusesAValueTooDeepOrTooBigToWriteOut) {
  nlohmann::json thousand = nlohmann::json::array();
  for (int i = 0; i < 1000; ++i) thousand.push_back(i);
  EXPECT_EQ(run("[l].map(a, l.map(x, a)).map(b, l.map(y, b))", {{"l", thousand}}),
            "error: the value is too big: more than 1000000 elements (or 16-byte pieces of text) "
            "written out");
  // The same shared list a thousand times is a million elements: refused as well.
  EXPECT_EQ(run("size(l.map(x, l)) == 1000 ? l.map(x, l) : []", {{"l", thousand}}),
            "error: the value is too big: more than 1000000 elements (or 16-byte pieces of text) "
            "written out");
  // But a count of them is fine, and so is a value of a hundred thousand.
  EXPECT_EQ(run("size(l.map(x, l))", {{"l", thousand}}), "1000");
  EXPECT_EQ(run("l.map(x, l).map(z, 1) == l.map(x, 1)", {{"l", thousand}}), "true");

  nlohmann::json deep = 1;
  for (int i = 0; i < 90; ++i) deep = nlohmann::json::array({deep});
  EXPECT_EQ(run("size([[[[[v]]]]])", {{"v", deep}}), "1");
  EXPECT_EQ(run("[[[[[v]]]]]", {{"v", deep}}).substr(0, 10), "[[[[[[[[[[");
  EXPECT_EQ(run("[[[[[[[v]]]]]]]", {{"v", deep}}), "error: the value nests deeper than 96 levels");
  EXPECT_EQ(run("{'a': {'b': [[[[[v]]]]]}}", {{"v", deep}}),
            "error: the value nests deeper than 96 levels");
  EXPECT_EQ(run("optional.of([[[[[[v]]]]]])", {{"v", deep}}),
            "error: the value nests deeper than 96 levels");
}

}  // namespace
}  // namespace reliant::cel
