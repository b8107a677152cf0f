// Message literals of google.protobuf's well-known types, as the CEL values they stand for.
#include "core/cel/well_known.h"

#include <limits>

#include "core/cel/messages.h"
#include "core/cel/timestamps.h"

namespace reliant::cel {
namespace {

constexpr std::string_view kPrefix = "google.protobuf.";

// Each type's fields, in the order of the message's declaration.
struct WellKnownType {
  std::string_view name;
  std::vector<std::string_view> fields;
};

const std::vector<WellKnownType>& types() {
  static const std::vector<WellKnownType> kTypes = {
      {"BoolValue", {"value"}},
      {"BytesValue", {"value"}},
      {"DoubleValue", {"value"}},
      {"FloatValue", {"value"}},
      {"Int32Value", {"value"}},
      {"Int64Value", {"value"}},
      {"StringValue", {"value"}},
      {"UInt32Value", {"value"}},
      {"UInt64Value", {"value"}},
      {"Value",
       {"null_value", "number_value", "string_value", "bool_value", "struct_value", "list_value"}},
      {"Struct", {"fields"}},
      {"ListValue", {"values"}},
      {"Timestamp", {"seconds", "nanos"}},
      {"Duration", {"seconds", "nanos"}},
  };
  return kTypes;
}

const WellKnownType* find_type(std::string_view name) {
  if (name.substr(0, kPrefix.size()) != kPrefix) return nullptr;
  name.remove_prefix(kPrefix.size());
  for (const auto& type : types()) {
    if (type.name == name) return &type;
  }
  return nullptr;
}

tl::unexpected<std::string> wrong_type(std::string_view type, std::string_view field,
                                       const Value& value) {
  return tl::unexpected("field '" + std::string(field) + "' of " + std::string(type) +
                        " cannot hold a value of type '" + std::string(value.type_name()) + "'");
}

// The value of field `field` (set, or nullptr for its default) of a wrapper type.
tl::expected<Value, std::string> wrapper(std::string_view name, const Value* value) {
  const std::string_view kind = name.substr(kPrefix.size());
  const auto get = [&]<class T>(T zero) -> tl::expected<T, std::string> {
    if (!value) return zero;
    if (const auto* v = value->get_if<T>()) return *v;
    return wrong_type(name, "value", *value);
  };
  if (kind == "BoolValue") return get(false).map([](bool b) { return Value(b); });
  if (kind == "BytesValue") return get(Bytes{}).map([](Bytes b) { return Value(std::move(b)); });
  if (kind == "StringValue") {
    return get(std::string()).map([](std::string s) { return Value(std::move(s)); });
  }
  if (kind == "DoubleValue") return get(0.0).map([](double d) { return Value(d); });
  if (kind == "FloatValue") {
    return get(0.0).map([](double d) { return Value(static_cast<double>(to_float(d))); });
  }
  if (kind == "Int64Value")
    return get(std::int64_t{0}).map([](std::int64_t i) { return Value(i); });
  if (kind == "UInt64Value") {
    return get(std::uint64_t{0}).map([](std::uint64_t u) { return Value(u); });
  }
  if (kind == "Int32Value") {
    auto i = get(std::int64_t{0});
    if (i && (*i < std::numeric_limits<std::int32_t>::min() ||
              *i > std::numeric_limits<std::int32_t>::max())) {
      return tl::unexpected(std::string("int32 out of range"));
    }
    return i.map([](std::int64_t v) { return Value(v); });
  }
  auto u = get(std::uint64_t{0});  // UInt32Value
  if (u && *u > std::numeric_limits<std::uint32_t>::max()) {
    return tl::unexpected(std::string("uint32 out of range"));
  }
  return u.map([](std::uint64_t v) { return Value(v); });
}

}  // namespace

bool is_well_known_type(std::string_view name) { return find_type(name) != nullptr; }

tl::expected<Value, std::string> make_well_known(
    std::string_view name, const std::vector<std::pair<std::string, Value>>& fields) {
  const WellKnownType* type = find_type(name);
  if (!type) return tl::unexpected("unknown type '" + std::string(name) + "'");
  for (const auto& [field, value] : fields) {
    bool known = false;
    for (std::string_view declared : type->fields) known = known || declared == field;
    if (!known) {
      return tl::unexpected("no such field '" + field + "' in " + std::string(name));
    }
  }
  const auto field = [&](std::string_view wanted) -> const Value* {
    for (const auto& [name, value] : fields) {
      if (name == wanted) return &value;
    }
    return nullptr;
  };
  if (type->fields.size() == 1 && type->fields[0] == "value") return wrapper(name, field("value"));
  if (type->name == "Timestamp" || type->name == "Duration") {
    std::int64_t parts[2] = {0, 0};
    for (int i = 0; i < 2; ++i) {
      const Value* value = field(type->fields[static_cast<std::size_t>(i)]);
      if (!value) continue;
      const auto* number = value->get_if<std::int64_t>();
      if (!number) return wrong_type(name, type->fields[static_cast<std::size_t>(i)], *value);
      parts[i] = *number;
    }
    if (parts[1] <= -1'000'000'000 || parts[1] >= 1'000'000'000) {
      return tl::unexpected(std::string("nanos out of range"));
    }
    const auto nanos = static_cast<std::int32_t>(parts[1]);
    if (type->name == "Timestamp") {
      const Timestamp t{parts[0], nanos};
      if (!in_range(t)) return tl::unexpected(std::string("timestamp out of range"));
      return Value(t);
    }
    const Duration d{parts[0], nanos};
    if ((d.seconds > 0 && d.nanos < 0) || (d.seconds < 0 && d.nanos > 0) || !in_range(d)) {
      return tl::unexpected(std::string("duration out of range"));
    }
    return Value(d);
  }
  if (type->name == "Struct") {
    const Value* entries = field("fields");
    if (!entries) return Value(ValueMap{});
    if (!entries->map()) return wrong_type(name, "fields", *entries);
    return *entries;
  }
  if (type->name == "ListValue") {
    const Value* values = field("values");
    if (!values) return Value(ValueList{});
    if (!values->list()) return wrong_type(name, "values", *values);
    return *values;
  }
  // google.protobuf.Value: one of its kinds, or null when none is set.
  if (fields.size() > 1) return tl::unexpected(std::string("google.protobuf.Value holds one kind"));
  if (fields.empty() || fields[0].first == "null_value") return Value(nullptr);
  const auto& [kind, value] = fields[0];
  const bool fits = (kind == "number_value" && value.is<double>()) ||
                    (kind == "string_value" && value.is<std::string>()) ||
                    (kind == "bool_value" && value.is<bool>()) ||
                    (kind == "struct_value" && value.map()) ||
                    (kind == "list_value" && value.list());
  if (!fits) return wrong_type(name, kind, value);
  return value;
}

}  // namespace reliant::cel
