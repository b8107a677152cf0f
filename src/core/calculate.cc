// calculate: parse, bind the variables, evaluate with a budget, print the value.
#include "core/calculate.h"

#include "core/cel/evaluator.h"
#include "core/cel/parser.h"

namespace reliant {
namespace {

constexpr std::size_t kExpressionBytesMax = 8 * 1024;
constexpr std::int64_t kCostMax = 100'000;  // a tool call, not a batch job

}  // namespace

std::string_view calculate_description() {
  return "Evaluates a CEL expression and returns its value as JSON: exact integer and decimal "
         "arithmetic, comparisons, strings (size, contains, split, replace, matches), lists and "
         "maps (map, filter, exists, all), timestamps and durations, parseJson/toJson. Use it "
         "instead of computing by hand. Example: {\"expression\": \"[3, 4, 5].map(x, x * x)\"}.";
}

nlohmann::json calculate_input_schema() {
  return {{"type", "object"},
          {"properties",
           {{"expression", {{"type", "string"}, {"description", "The CEL expression."}}},
            {"variables",
             {{"type", "object"},
              {"description", "Values the expression may name, e.g. {\"n\": 12}."}}}}},
          {"required", {"expression"}},
          {"additionalProperties", false}};
}

Result<std::string> calculate(const nlohmann::json& input) {
  if (!input.is_object() || !input.contains("expression") || !input["expression"].is_string()) {
    return fail(ErrorCode::invalid_argument,
                "calculate needs {\"expression\": TEXT, \"variables\"?: OBJECT}");
  }
  const std::string expression = input["expression"].get<std::string>();
  if (expression.size() > kExpressionBytesMax) {
    return fail(ErrorCode::invalid_argument,
                "the expression has " + std::to_string(expression.size()) + " bytes; at most " +
                    std::to_string(kExpressionBytesMax));
  }
  cel::Activation activation;
  if (input.contains("variables")) {
    if (!input["variables"].is_object()) {
      return fail(ErrorCode::invalid_argument, "variables must be an object");
    }
    for (const auto& [name, value] : input["variables"].items()) {
      activation.bind(name, cel::from_json(value));
    }
  }
  auto tree = cel::parse(expression);
  if (!tree) return fail(ErrorCode::invalid_argument, cel::describe(tree.error(), expression));
  cel::EvalOptions options;
  options.cost_max = kCostMax;
  auto value = cel::evaluate(*tree, activation, options);
  if (!value) {
    const cel::SyntaxError located{value.error().offset, value.error().message};
    return fail(ErrorCode::invalid_argument, cel::describe(located, expression));
  }
  return cel::to_json(*value).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace reliant
