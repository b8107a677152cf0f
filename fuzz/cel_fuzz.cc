// Fuzz target: any bytes given as a CEL expression parse to a tree or to an error at a position
// inside the source, never a crash or a hang; an accepted tree prints to text that parses back
// to the same tree and prints the same again, and evaluates (to a value or an error) within its
// budget; the compiled Program evaluates it to the same value or error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "core/cel/evaluator.h"
#include "core/cel/functions.h"
#include "core/cel/parser.h"
#include "core/cel/printer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  auto tree = reliant::cel::parse(source);
  if (!tree) {
    RELIANT_ASSERT(!tree.error().message.empty());
    RELIANT_ASSERT(tree.error().offset <= size);
    (void)reliant::cel::describe(tree.error(), source);
    return 0;
  }
  const std::string printed = reliant::cel::to_source(*tree);
  auto again = reliant::cel::parse(printed);
  RELIANT_ASSERT_MSG(again.has_value(), printed.c_str());
  RELIANT_ASSERT_MSG(reliant::cel::same_tree(*again, *tree), printed.c_str());
  RELIANT_ASSERT(reliant::cel::to_source(*again) == printed);

  static const reliant::cel::Activation variables = [] {
    reliant::cel::Activation a;
    a.bind("x", reliant::cel::Value(std::int64_t{3}));
    a.bind("s", reliant::cel::Value("text"));
    a.bind("l", reliant::cel::from_json(nlohmann::json::parse(R"([1, 2.5, "a", [true], {}])")));
    a.bind("m", reliant::cel::from_json(nlohmann::json::parse(R"({"k": {"v": null}, "n": 1})")));
    return a;
  }();
  const reliant::cel::EvalOptions options{20'000};
  auto value = reliant::cel::evaluate(*tree, variables, options);
  if (value) (void)reliant::cel::to_json(*value).dump();
  // The compiled program agrees with the tree walk, value for value and message for message,
  // unless the budget ran out (the two spend it alike but not to the step on every path).
  const auto compiled = reliant::cel::Program(std::move(*tree)).evaluate(variables, options);
  const auto shown = [](const reliant::cel::EvalResult& r) {
    return r ? reliant::cel::to_json(*r).dump(-1, ' ', false,
                                              nlohmann::json::error_handler_t::replace)
             : "error: " + r.error().message;
  };
  const bool out_of_budget =
      (!value && value.error().message == reliant::cel::kBudgetExceeded) ||
      (!compiled && compiled.error().message == reliant::cel::kBudgetExceeded);
  if (!out_of_budget) {
    RELIANT_ASSERT_MSG(shown(value) == shown(compiled),
                       (printed + " → " + shown(value) + " vs " + shown(compiled)).c_str());
  }
  return 0;
}
