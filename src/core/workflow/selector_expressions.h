// CEL daemon selectors (seed 000): `daemon: "{{ inputs.daemon_type }}"` evaluated against a
// run's variables, giving a shorthand string ("cloud", "gpu-box") or a structured selector map
// ({id, name, type, labels}) for select_daemon. Workflow files' selectors are evaluated by the
// interpreter; this is for the selectors that come with a request (a chat message, a tool call).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

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

// A selector as a request carries it (a shorthand, a structured object or "{{ expression }}"),
// made literal: an expression is evaluated against `variables` once, so the run stores what it
// chose (to_json of the result) and a replay chooses the same. invalid_argument says what is
// wrong, e.g. "{{ inputs.where }}": column 7: no such key: where".
Result<DaemonSelector> literal_selector(const nlohmann::json& written,
                                        const cel::Activation& variables);

}  // namespace reliant::workflow
