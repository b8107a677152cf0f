// `calculate`: a tool that runs anywhere (seed 001's ToolRunsAnywhere) — one CEL expression,
// with optional variables, evaluated under a bounded budget; the model gets its value as JSON
// (exact integer arithmetic, string and list functions, timestamps, parseJson …) instead of
// doing arithmetic in its head. Pure, so the daemon runs it when one is connected and the worker
// otherwise, with the same answer.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace reliant {

inline constexpr std::string_view kCalculateTool = "calculate";
std::string_view calculate_description();
nlohmann::json calculate_input_schema();

// `input` is {"expression": TEXT, "variables"?: OBJECT}. The value as compact JSON; fails with
// invalid_argument naming the column of a syntax or evaluation error, or a malformed input.
Result<std::string> calculate(const nlohmann::json& input);

}  // namespace reliant
