// Parsing JSON that comes from elsewhere — requests, bus payloads, models, tokens, files, stored
// rows — with a bound on how deeply its arrays and objects nest.
//
// nlohmann's parser is iterative, but copying, printing and comparing a value recurse once per
// level: a request body nested 70,000 deep parsed fine and then overflowed the stack when it was
// copied (issue 15). So every JSON entry point parses through here, and too deep is refused
// while parsing: no deep value ever exists, not even half built.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/result.h"

namespace reliant {

// Deepest nesting accepted from a request, a bus message, a model, a token or a file, counting
// arrays and objects (`{}` is 1 level, `{"a":[1]}` 2). Far more than any of them needs, and
// little stack for the operations that recurse.
inline constexpr std::size_t kJsonDepthMax = 64;

// Deepest nesting accepted when reading back what the system composed itself: stored rows, the
// update log's bodies on the bus, the api's replies to the CLI. They wrap input that passed
// kJsonDepthMax in levels of their own (a tool's input inside a content block inside a history
// event), so the bound must be higher, or a document we wrote would read back as corrupt.
inline constexpr std::size_t kStoredJsonDepthMax = 2 * kJsonDepthMax;

// `text` as one JSON value, or invalid_argument: "JSON nested deeper than 64 levels at byte N"
// (N is the offset of the bracket that opens level 65), or nlohmann's account of a syntax error
// ("parse error at line 1, column 9: syntax error while parsing …"). Never throws.
Result<nlohmann::json> parse_json(std::string_view text, std::size_t depth_max = kJsonDepthMax);

// parse_json for code written against nlohmann::json::parse(text, nullptr, false): whatever is
// refused, too deep or malformed, comes back as a discarded value.
nlohmann::json parse_json_or_discarded(std::string_view text,
                                       std::size_t depth_max = kJsonDepthMax);

// The depth check alone, with parse_json's error, for JSON another parser will read (protobuf's
// JSON parser bounds the nesting of objects but not of arrays). One pass over the bytes, no
// memory: it follows only brackets and strings (quoted with " or, as protobuf also accepts, ').
// On malformed text it may refuse what a parser would reject anyway; it never passes text that a
// parser would build deeper than `depth_max` before finding the mistake.
Result<void> check_json_depth(std::string_view text, std::size_t depth_max = kJsonDepthMax);

// A field of a parsed document that came from outside, as the type the reader wants, or
// `fallback` when the document is not an object, lacks the field, or holds another type there.
// nlohmann's value(key, default) throws on a field of the wrong type ({"type": 7}); these never
// throw.
std::string text_field(const nlohmann::json& json, std::string_view key, std::string fallback = {});
std::uint64_t unsigned_field(const nlohmann::json& json, std::string_view key,
                             std::uint64_t fallback = 0);
std::int64_t integer_field(const nlohmann::json& json, std::string_view key,
                           std::int64_t fallback = 0);
bool bool_field(const nlohmann::json& json, std::string_view key, bool fallback = false);

}  // namespace reliant
