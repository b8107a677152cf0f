// CEL syntax trees survive printing: for random trees, parse(to_source(tree)) is the same tree,
// and printing that gives the same text. Covers precedence, parentheses, unary runs, negative
// literals, escapes in strings and bytes, optional selections and collections. The same random
// trees check the compiled Program against the tree walk: same value, or same error.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include "base/utf8.h"
#include "core/cel/evaluator.h"
#include "core/cel/functions.h"
#include "core/cel/parser.h"
#include "core/cel/printer.h"
#include "property/property_check.h"

namespace reliant::cel {
namespace {

const std::vector<std::string> kNames = {"a", "b", "x", "inputs", "nodes", "_y1"};
const std::vector<std::string> kFunctions = {"f", "size", "contains", "startsWith", "int"};
const std::vector<const char*> kBinary = {
    op::kLogicalOr, op::kLogicalAnd, op::kEquals,   op::kNotEquals,
    op::kLess,      op::kLessEquals, op::kGreater,  op::kGreaterEquals,
    op::kIn,        op::kAdd,        op::kSubtract, op::kMultiply,
    op::kDivide,    op::kModulo,     op::kIndex,    op::kOptionalIndex};

rc::Gen<std::string> text() {
  // Code points from every range that matters to escaping: controls, ASCII, quotes and
  // backslashes, two- to four-byte sequences.
  return rc::gen::map(rc::gen::container<std::vector<std::uint32_t>>(
                          rc::gen::oneOf(rc::gen::inRange<std::uint32_t>(0, 0x80),
                                         rc::gen::element<std::uint32_t>('"', '\\', '\''),
                                         rc::gen::inRange<std::uint32_t>(0x80, 0xD800),
                                         rc::gen::inRange<std::uint32_t>(0xE000, 0x110000))),
                      [](const std::vector<std::uint32_t>& points) {
                        std::string out;
                        for (auto point : points) append_utf8(point, out);
                        return out;
                      });
}

rc::Gen<Constant> constant() {
  return rc::gen::oneOf(
      rc::gen::just(Constant(nullptr)),
      rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Constant(b); }),
      rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t i) { return Constant(i); }),
      rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                   [](std::uint64_t u) { return Constant(u); }),
      rc::gen::map(rc::gen::suchThat(rc::gen::arbitrary<double>(),
                                     [](double d) { return std::isfinite(d); }),
                   [](double d) { return Constant(d); }),
      rc::gen::map(text(), [](std::string s) { return Constant(std::move(s)); }),
      rc::gen::map(rc::gen::arbitrary<std::string>(),
                   [](std::string s) { return Constant(Bytes{std::move(s)}); }));
}

Expr leaf() {
  if (*rc::gen::inRange(0, 3) == 0) {
    return Expr{0, Ident{*rc::gen::elementOf(kNames), *rc::gen::inRange(0, 5) == 0}};
  }
  return Expr{0, *constant()};
}

// A random tree at most `depth` levels tall.
Expr tree(int depth) {
  if (depth <= 1) return leaf();
  auto child = [depth] { return tree(*rc::gen::inRange(std::max(1, depth / 2), depth)); };
  auto children = [&child](int most) {
    std::vector<Expr> out;
    const int count = *rc::gen::inRange(0, most + 1);
    for (int i = 0; i < count; ++i) out.push_back(child());
    return out;
  };
  switch (*rc::gen::inRange(0, 10)) {
    case 0:
      return leaf();
    case 1: {
      std::vector<Expr> args;
      args.push_back(child());
      args.push_back(child());
      return Expr{0, Call{nullptr, *rc::gen::elementOf(kBinary), std::move(args)}};
    }
    case 2: {
      std::vector<Expr> args;
      args.push_back(child());
      return Expr{0, Call{nullptr, *rc::gen::element<std::string>(op::kLogicalNot, op::kNegate),
                          std::move(args)}};
    }
    case 3: {
      std::vector<Expr> args;
      for (int i = 0; i < 3; ++i) args.push_back(child());
      return Expr{0, Call{nullptr, op::kConditional, std::move(args)}};
    }
    case 4: {
      ExprPtr target;
      if (*rc::gen::arbitrary<bool>()) target = std::make_unique<Expr>(child());
      return Expr{0, Call{std::move(target), *rc::gen::elementOf(kFunctions), children(3)}};
    }
    case 5:
      return Expr{0, Select{std::make_unique<Expr>(child()), *rc::gen::elementOf(kNames),
                            *rc::gen::arbitrary<bool>()}};
    case 6: {
      List list;
      for (auto& e : children(3))
        list.elements.push_back({std::move(e), *rc::gen::arbitrary<bool>()});
      return Expr{0, std::move(list)};
    }
    case 7: {
      Map map;
      const int count = *rc::gen::inRange(0, 3);
      for (int i = 0; i < count; ++i)
        map.entries.push_back({child(), child(), *rc::gen::arbitrary<bool>()});
      return Expr{0, std::move(map)};
    }
    case 8: {
      Message message;
      message.type_name = *rc::gen::element<std::string>("M", "google.protobuf.Value", "a.b.C");
      for (auto& e : children(2)) {
        message.fields.push_back(
            {*rc::gen::elementOf(kNames), std::move(e), *rc::gen::arbitrary<bool>()});
      }
      return Expr{0, std::move(message)};
    }
    default: {
      std::vector<Expr> args;
      args.push_back(child());
      args.push_back(child());
      return Expr{0, Call{nullptr,
                          *rc::gen::element<std::string>(op::kAdd, op::kMultiply, op::kLogicalAnd,
                                                         op::kLess),
                          std::move(args)}};
    }
  }
}

TEST(CelSyntax, PrintedTreesParseBackToTheSameTree) {
  property::check_property(500, [] {
    const Expr original = tree(*rc::gen::inRange(1, 8));
    const std::string source = to_source(original);
    auto parsed = parse(source);
    if (!parsed) RC_FAIL(source + " does not parse: " + describe(parsed.error(), source));
    if (!same_tree(*parsed, original)) {
      RC_FAIL(source + " reads back as another tree, printed " + to_source(*parsed));
    }
    RC_ASSERT(to_source(*parsed) == source);
  });
}

TEST(CelSyntax, CompiledProgramsAgreeWithTheTreeWalk) {
  // Variables under the generator's names, of several types, so selections, indexes and
  // operators meet maps, lists, strings and numbers.
  Activation variables;
  variables.bind("a", from_json(nlohmann::json::parse(R"({"a": 1, "b": [1, 2.5, "x"], "x": {}})")));
  variables.bind("b", from_json(nlohmann::json::parse(R"([true, {"nodes": "n"}, null])")));
  variables.bind("x", Value(std::int64_t{7}));
  variables.bind("inputs", from_json(nlohmann::json::parse(R"({"mode": "auto", "_y1": 2})")));
  variables.bind("nodes", Value("text"));
  variables.bind("_y1", Value(false));  // && and || meet a decisive operand
  const auto shown = [](const EvalResult& result) {
    if (!result)
      return "error at " + std::to_string(result.error().offset) + ": " + result.error().message;
    return to_json(*result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  property::check_property(3000, [&] {
    // Parsed from its text, as workflows hold expressions: positions and resolved builtins.
    const std::string source = to_source(tree(*rc::gen::inRange(1, 8)));
    auto parsed = parse(source);
    RC_ASSERT(parsed.has_value());
    const EvalOptions options{*rc::gen::element<std::int64_t>(3, 40, 1'000'000)};
    const auto walked = evaluate(*parsed, variables, options);
    const auto compiled = Program(std::move(*parsed)).evaluate(variables, options);
    // They spend the budget alike but not to the step on every path (the walk charges a
    // selection chain again when it cannot borrow it): compare only what did not run out.
    const auto out_of_budget = [](const EvalResult& r) {
      return !r && r.error().message == kBudgetExceeded;
    };
    if (out_of_budget(walked) || out_of_budget(compiled)) return;
    if (shown(walked) != shown(compiled)) {
      RC_FAIL(source + ": the walk gives " + shown(walked) + ", the program " + shown(compiled));
    }
  });
}

}  // namespace
}  // namespace reliant::cel
