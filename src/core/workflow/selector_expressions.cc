// CEL daemon selectors: parse, evaluate, and check the shape of the result.
#include "core/workflow/selector_expressions.h"

#include "core/cel/parser.h"

namespace reliant::workflow {

Result<Json> CelSelectorExpressions::evaluate(std::string_view expression) const {
  auto tree = cel::parse(expression);
  if (!tree) {
    return fail(ErrorCode::invalid_argument, cel::describe(tree.error(), expression));
  }
  auto value = cel::evaluate(*tree, variables_);
  if (!value) {
    const cel::SyntaxError located{value.error().offset, value.error().message};
    return fail(ErrorCode::invalid_argument, cel::describe(located, expression));
  }
  if (!value->is<std::string>() && value->map() == nullptr) {
    return fail(ErrorCode::invalid_argument,
                "a daemon selector is a string or a map, not " + std::string(value->type_name()));
  }
  return cel::to_json(*value);
}

}  // namespace reliant::workflow
