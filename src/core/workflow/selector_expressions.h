// CEL daemon selectors (seed 000): `daemon: "{{ inputs.daemon_type }}"` evaluated against a
// run's variables, giving a shorthand string ("cloud", "gpu-box") or a structured selector map
// ({id, name, type, labels}) for select_daemon.
#pragma once

#include <string_view>

#include "core/cel/evaluator.h"
#include "core/daemon_selection.h"

namespace reliant::workflow {

class CelSelectorExpressions final : public ExpressionEvaluator {
 public:
  explicit CelSelectorExpressions(cel::Activation variables) : variables_(std::move(variables)) {}

  // `expression` is the text between the braces. A syntax or evaluation error, or a value that
  // is neither a string nor a map, is invalid_argument with the reason.
  Result<Json> evaluate(std::string_view expression) const override;

 private:
  cel::Activation variables_;
};

}  // namespace reliant::workflow
