// YAML scalars typed as YAML 1.2's core schema types them (a quoted scalar is always a
// string), and YAML trees as JSON or CEL values: one reading for workflows and scenario files.
#pragma once

#include <optional>
#include <string_view>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "core/cel/value.h"
#include "core/workflow/definition.h"

namespace reliant::workflow {

// The value under the scalar key `key` of `map`, or an undefined node (also when `map` is no
// map). yaml-cpp's const operator[] converts every key it passes and builds a node for a key
// it does not find, some 6k instructions a lookup; a 100-node file looks up thousands.
YAML::Node child(const YAML::Node& map, std::string_view key);

// Where a node stands in its file (1-based), or no place for a node built in memory.
Mark mark_of(const YAML::Node& node);

// Plain (unquoted, not a block scalar): only these are read as null, booleans and numbers.
bool is_plain(const YAML::Node& scalar);
// null, bool, int, double or string.
cel::Value scalar_value(const YAML::Node& scalar);
nlohmann::json to_json(const YAML::Node& node);
cel::Value to_value(const YAML::Node& node);
std::optional<double> as_double(const cel::Value& value);

}  // namespace reliant::workflow
