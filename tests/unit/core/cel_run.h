// The CEL unit tests' one helper: an expression's value as JSON text, or its error, in words.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "core/cel/evaluator.h"
#include "core/cel/parser.h"

namespace reliant::cel {

// The value of `source` as JSON text, or "error: …" with the evaluator's message ("syntax: …"
// when it does not parse). The tree walk and the compiled Program evaluate it, and must agree
// exactly: value, message and position.
inline std::string run(const std::string& source,
                       const nlohmann::json& variables = nlohmann::json::object(),
                       EvalOptions options = {}) {
  auto tree = parse(source);
  if (!tree) return "syntax: " + describe(tree.error(), source);
  Activation activation;
  for (const auto& [name, value] : variables.items()) activation.bind(name, from_json(value));
  const auto shown = [](const EvalResult& value) {
    if (!value) return "error: " + value.error().message;
    return to_json(*value).dump();
  };
  auto walked = evaluate(*tree, activation, options);
  auto compiled = Program(std::move(*tree)).evaluate(activation, options);
  EXPECT_EQ(shown(compiled), shown(walked)) << source;
  if (!walked && !compiled) {
    EXPECT_EQ(compiled.error().offset, walked.error().offset) << source;
  }
  return shown(walked);
}

}  // namespace reliant::cel
