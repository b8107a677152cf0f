// google.protobuf's well-known types, which CEL maps to its own values (cel-spec doc/langdef.md,
// "Protocol buffer types"): the wrappers (Int32Value{value: 1} is 1, BoolValue{} is false),
// Value, Struct and ListValue (JSON-like values), Timestamp and Duration. A message literal naming
// one of these builds the CEL value; no other message type exists in this CEL.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "core/cel/value.h"

namespace reliant::cel {

// `name` is fully qualified, without a leading dot: "google.protobuf.Int64Value".
bool is_well_known_type(std::string_view name);

// The value `name{field: value, …}` builds, or an error for a field the type lacks or a value of
// the wrong type or out of the field's range.
tl::expected<Value, std::string> make_well_known(
    std::string_view name, const std::vector<std::pair<std::string, Value>>& fields);

}  // namespace reliant::cel
