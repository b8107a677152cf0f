// A workflow's typed inputs: checking given values against their specs, converting command-line
// text to the input's type, and filling in defaults.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "core/cel/value.h"
#include "core/workflow/definition.h"

namespace reliant::workflow {

std::optional<InputType> input_type_named(std::string_view name) noexcept;
std::string_view to_string(InputType type) noexcept;  // as files spell it: "enum", "tools" …

// The inputs as clients render a form from them: [{name, type, description, default, min, max,
// enum, multi, required, fields, and what the file keeps for clients (ui, tags …)}], in file
// order, absent keys left out.
nlohmann::json input_schema(const std::vector<InputSpec>& specs);

// Whether `value` fits `spec`: its type, min and max (a number's value, a string's or list's
// length), and enum choices (each element, for multi). The error says what is wrong, e.g.
// "600 is above max 500".
tl::expected<void, std::string> check_input_value(const InputSpec& spec,
                                                  const nlohmann::json& value, bool bounds = true);

// The run's `inputs`: each given value checked (unknown names are errors), then defaults for the
// rest, then the type's empty value ("" / 0 / false / [] / {}) for inputs with neither, unless
// required. A string given for an integer, number, boolean, array or object input is converted
// ("3", "true", "[1,2]"), as `--input k=v` passes everything as text.
enum class InputBounds { checked, ignored };
tl::expected<cel::Value, std::string> resolve_inputs(const std::vector<InputSpec>& specs,
                                                     const nlohmann::json& given,
                                                     InputBounds bounds = InputBounds::checked);

}  // namespace reliant::workflow
