// The two ways parse_json reads a document, apart, so that tests can hold one against the other.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace reliant::json_paths {

// simdjson's reading converted to nlohmann::json: the value, or nullopt for anything it does not
// accept (malformed, deeper than depth_max, over its size bound, a byte-order mark, an integer
// beyond 64 bits). Never wrong where it answers: it types numbers as nlohmann does.
std::optional<nlohmann::json> parse_fast(std::string_view text, std::size_t depth_max);

// nlohmann's reading behind a depth count: every document, with parse_json's error messages.
Result<nlohmann::json> parse_exact(std::string_view text, std::size_t depth_max);

// How the readers part on `text`, in words, or nullopt when they agree: where simdjson's path
// answers, nlohmann gives the same value with the same number types at every level; simdjson's
// path never accepts what nlohmann refuses; and parse_json answers as nlohmann alone would,
// error messages included. What the property test and the fuzz target both check.
std::optional<std::string> disagreement(std::string_view text, std::size_t depth_max);

}  // namespace reliant::json_paths
