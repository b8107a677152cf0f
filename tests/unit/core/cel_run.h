// The CEL unit tests' one helper: an expression's value as JSON text, or its error, in words.
#pragma once

#include <string>

#include "core/cel/evaluator.h"
#include "core/cel/parser.h"

namespace reliant::cel {

// The value of `source` as JSON text, or "error: …" with the evaluator's message ("syntax: …"
// when it does not parse).
inline std::string run(const std::string& source,
                       const nlohmann::json& variables = nlohmann::json::object(),
                       EvalOptions options = {}) {
  auto tree = parse(source);
  if (!tree) return "syntax: " + describe(tree.error(), source);
  Activation activation;
  for (const auto& [name, value] : variables.items()) activation.bind(name, from_json(value));
  auto value = evaluate(*tree, activation, options);
  if (!value) return "error: " + value.error().message;
  return to_json(*value).dump();
}

}  // namespace reliant::cel
