// Message types from a JSON schema, and message values: construction with each field's
// conversion and range checks, field selection with defaults, and presence.
#include "core/cel/messages.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "base/assert.h"
#include "base/base64url.h"
#include "core/cel/timestamps.h"
#include "core/cel/well_known.h"

namespace reliant::cel {
namespace {

using json = nlohmann::json;

tl::unexpected<std::string> refusal(std::string message) {
  return tl::unexpected(std::move(message));
}

std::optional<Scalar> scalar_named(std::string_view name) {
  static constexpr std::pair<std::string_view, Scalar> kNames[] = {
      {"int32", Scalar::int32},    {"sint32", Scalar::int32},   {"sfixed32", Scalar::int32},
      {"int64", Scalar::int64},    {"sint64", Scalar::int64},   {"sfixed64", Scalar::int64},
      {"uint32", Scalar::uint32},  {"fixed32", Scalar::uint32}, {"uint64", Scalar::uint64},
      {"fixed64", Scalar::uint64}, {"float", Scalar::float32},  {"double", Scalar::float64},
      {"bool", Scalar::boolean},   {"string", Scalar::string},  {"bytes", Scalar::bytes},
  };
  for (const auto& [spelled, scalar] : kNames) {
    if (spelled == name) return scalar;
  }
  return std::nullopt;
}

// The scalar a wrapper type (google.protobuf.Int32Value …) holds; nullopt for other types.
std::optional<Scalar> wrapped_scalar(std::string_view name) {
  static constexpr std::pair<std::string_view, Scalar> kWrappers[] = {
      {"google.protobuf.BoolValue", Scalar::boolean},
      {"google.protobuf.BytesValue", Scalar::bytes},
      {"google.protobuf.DoubleValue", Scalar::float64},
      {"google.protobuf.FloatValue", Scalar::float32},
      {"google.protobuf.Int32Value", Scalar::int32},
      {"google.protobuf.Int64Value", Scalar::int64},
      {"google.protobuf.StringValue", Scalar::string},
      {"google.protobuf.UInt32Value", Scalar::uint32},
      {"google.protobuf.UInt64Value", Scalar::uint64},
  };
  for (const auto& [spelled, scalar] : kWrappers) {
    if (spelled == name) return scalar;
  }
  return std::nullopt;
}

constexpr std::string_view kAny = "google.protobuf.Any";
constexpr std::string_view kValue = "google.protobuf.Value";
constexpr std::string_view kStruct = "google.protobuf.Struct";
constexpr std::string_view kListValue = "google.protobuf.ListValue";
constexpr std::string_view kNullValue = "google.protobuf.NullValue";

std::string cannot_hold(const Value& value) {
  return "cannot hold a value of type '" + std::string(value.type_name()) + "'";
}

// `value` as a value of scalar type `scalar`: the CEL type it must have, and the range it must
// fit. The error says only what went wrong with the value; the caller names the field.
tl::expected<Value, std::string> to_scalar(Scalar scalar, const Value& value) {
  const auto wrong = [&] { return refusal(cannot_hold(value)); };
  switch (scalar) {
    case Scalar::int32:
    case Scalar::int64: {
      const auto* i = value.get_if<std::int64_t>();
      if (!i) return wrong();
      if (scalar == Scalar::int32 && (*i < std::numeric_limits<std::int32_t>::min() ||
                                      *i > std::numeric_limits<std::int32_t>::max())) {
        return refusal("int32 out of range");
      }
      return value;
    }
    case Scalar::uint32:
    case Scalar::uint64: {
      const auto* u = value.get_if<std::uint64_t>();
      if (!u) return wrong();
      if (scalar == Scalar::uint32 && *u > std::numeric_limits<std::uint32_t>::max()) {
        return refusal("uint32 out of range");
      }
      return value;
    }
    case Scalar::float32:
    case Scalar::float64: {
      const auto* d = value.get_if<double>();
      if (!d) return wrong();
      if (scalar == Scalar::float64) return value;
      return Value(static_cast<double>(to_float(*d)));
    }
    case Scalar::boolean:
      if (!value.is<bool>()) return wrong();
      return value;
    case Scalar::string:
      if (!value.is<std::string>()) return wrong();
      return value;
    case Scalar::bytes:
      if (!value.is<Bytes>()) return wrong();
      return value;
  }
  return wrong();
}

// `value` as google.protobuf.Value holds it, which is JSON: numbers as doubles (integers beyond
// 2^53 as decimal strings, where a double would round), bytes as base64, durations and
// timestamps as their proto3 JSON strings, maps with string keys only.
tl::expected<Value, std::string> to_json_value(const Value& value) {
  constexpr double kExactMax = 9007199254740991.0;  // 2^53 - 1
  if (value.is<std::nullptr_t>() || value.is<bool>() || value.is<double>() ||
      value.is<std::string>()) {
    return value;
  }
  if (const auto* i = value.get_if<std::int64_t>()) {
    if (std::abs(static_cast<double>(*i)) <= kExactMax) return Value(static_cast<double>(*i));
    return Value(std::to_string(*i));
  }
  if (const auto* u = value.get_if<std::uint64_t>()) {
    if (static_cast<double>(*u) <= kExactMax) return Value(static_cast<double>(*u));
    return Value(std::to_string(*u));
  }
  if (value.is<Bytes>()) return Value(to_json(value).get<std::string>());
  if (const auto* d = value.get_if<Duration>()) return Value(format_duration(*d));
  if (const auto* t = value.get_if<Timestamp>()) return Value(format_timestamp(*t));
  if (const ValueList* list = value.list()) {
    ValueList out;
    out.reserve(list->size());
    for (const Value& element : *list) {
      auto converted = to_json_value(element);
      if (!converted) return converted;
      out.push_back(std::move(*converted));
    }
    return Value(std::move(out));
  }
  if (const ValueMap* map = value.map()) {
    ValueMap out;
    for (const auto& [key, element] : map->entries()) {
      if (!key.is<std::string>())
        return refusal("bad key type '" + std::string(key.type_name()) + "'");
      auto converted = to_json_value(element);
      if (!converted) return converted;
      out.insert(key, std::move(*converted));
    }
    return Value(std::move(out));
  }
  return refusal(cannot_hold(value));
}

// `value` as a value of `type` (one element of a repeated field, one value of a map field).
tl::expected<Value, std::string> convert(const FieldType& type, const Value& value) {
  const auto wrong = [&] { return refusal(cannot_hold(value)); };
  switch (type.kind) {
    case FieldType::Kind::scalar:
      return to_scalar(type.scalar, value);
    case FieldType::Kind::enumeration:
      if (type.name == kNullValue) {
        const auto* i = value.get_if<std::int64_t>();
        if (value.is<std::nullptr_t>() || (i && *i == 0)) return Value(nullptr);
        return wrong();
      }
      return to_scalar(Scalar::int32, value);
    case FieldType::Kind::message: {
      const MessageValue* message = value.message();
      if (!message || &message->type() != type.message) return wrong();
      return value;
    }
    case FieldType::Kind::well_known:
      break;
  }
  if (auto wrapped = wrapped_scalar(type.name)) return to_scalar(*wrapped, value);
  if (type.name == kAny) return value;  // any value, as Any packs it
  if (type.name == kValue) return to_json_value(value);
  if (type.name == kStruct) {
    if (!value.map()) return wrong();
    return to_json_value(value);
  }
  if (type.name == kListValue) {
    if (!value.list()) return wrong();
    return to_json_value(value);
  }
  // Duration and Timestamp.
  if (value.type_name() != type.name) return wrong();
  return value;
}

// Whether a converted value is its type's zero: an unset proto3 scalar reads as it.
bool is_zero(const Value& value) {
  if (value.is<std::nullptr_t>()) return true;  // google.protobuf.NullValue
  if (const auto* b = value.get_if<bool>()) return !*b;
  if (const auto* i = value.get_if<std::int64_t>()) return *i == 0;
  if (const auto* u = value.get_if<std::uint64_t>()) return *u == 0;
  if (const auto* d = value.get_if<double>()) return *d == 0 && !std::signbit(*d);
  if (const auto* s = value.get_if<std::string>()) return s->empty();
  if (const auto* o = value.get_if<Bytes>()) return o->octets.empty();
  return false;
}

// What `value` sets `field` to: nullopt when it leaves the field unset.
tl::expected<std::optional<Value>, std::string> assign(const MessageType& type, const Field& field,
                                                       const Value& value) {
  const auto in_field = [&](const std::string& why) {
    return refusal("field '" + field.name + "' of " + type.name + ": " + why);
  };
  if (field.label == Field::Label::repeated) {
    const ValueList* list = value.list();
    if (!list) return in_field(cannot_hold(value));
    if (list->empty()) return std::nullopt;
    ValueList out;
    out.reserve(list->size());
    for (const Value& element : *list) {
      auto converted = convert(field.type, element);
      if (!converted) return in_field(converted.error());
      out.push_back(std::move(*converted));
    }
    return Value(std::move(out));
  }
  if (field.label == Field::Label::map) {
    const ValueMap* map = value.map();
    if (!map) return in_field(cannot_hold(value));
    if (map->size() == 0) return std::nullopt;
    ValueMap out;
    for (const auto& [key, element] : map->entries()) {
      auto converted_key = to_scalar(field.key, key);
      if (!converted_key) return in_field("key " + converted_key.error());
      auto converted = convert(field.type, element);
      if (!converted) return in_field(converted.error());
      out.insert(std::move(*converted_key), std::move(*converted));
    }
    return Value(std::move(out));
  }
  // A null clears a field of message type, except those whose value may be null itself.
  const bool message_typed =
      field.type.kind == FieldType::Kind::message ||
      (field.type.kind == FieldType::Kind::well_known && field.type.name != kValue &&
       field.type.name != kStruct && field.type.name != kListValue);
  if (message_typed && value.is<std::nullptr_t>()) return std::nullopt;
  auto converted = convert(field.type, value);
  if (!converted) return in_field(converted.error());
  if (!field.presence && is_zero(*converted)) return std::nullopt;
  return std::optional<Value>(std::move(*converted));
}

// What an unset field reads as.
Value default_of(const std::shared_ptr<const MessageType>& owner, const Field& field) {
  if (field.label == Field::Label::repeated) return Value(ValueList{});
  if (field.label == Field::Label::map) return Value(ValueMap{});
  switch (field.type.kind) {
    case FieldType::Kind::scalar:
    case FieldType::Kind::enumeration:
      return field.default_value;
    case FieldType::Kind::message:
      // The field's type lives in the owner's registry: the aliasing pointer keeps it alive.
      return Value(std::make_shared<const MessageValue>(
          std::shared_ptr<const MessageType>(owner, field.type.message), MessageValue::Fields{}));
    case FieldType::Kind::well_known:
      break;
  }
  if (wrapped_scalar(field.type.name) || field.type.name == kAny || field.type.name == kValue) {
    return Value(nullptr);
  }
  auto empty = make_well_known(field.type.name, {});  // {}, [], 0s, the epoch
  RELIANT_ASSERT(empty.has_value());
  return *empty;
}

// A proto2 [default = …] in proto3 JSON (64-bit integers may be strings, bytes are base64), as
// a value of the field's scalar type.
tl::expected<Value, std::string> read_default(Scalar scalar, const json& value) {
  Value candidate;
  if (value.is_boolean()) {
    candidate = Value(value.get<bool>());
  } else if (value.is_number_integer() && scalar != Scalar::float32 && scalar != Scalar::float64) {
    if (scalar == Scalar::uint32 || scalar == Scalar::uint64) {
      if (value.is_number_unsigned() || value.get<std::int64_t>() >= 0) {
        candidate = Value(value.get<std::uint64_t>());
      }
    } else {
      candidate = Value(value.get<std::int64_t>());
    }
  } else if (value.is_number()) {
    candidate = Value(value.get<double>());
  } else if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (scalar == Scalar::string) {
      candidate = Value(text);
    } else if (scalar == Scalar::bytes) {
      std::string url = text;
      while (!url.empty() && url.back() == '=') url.pop_back();
      for (char& c : url) {
        if (c == '+') c = '-';
        if (c == '/') c = '_';
      }
      auto octets = base64url_decode(url);
      if (!octets) return refusal("bad base64 in default");
      candidate = Value(Bytes{*octets});
    } else if (scalar == Scalar::float32 || scalar == Scalar::float64) {
      if (text == "NaN") candidate = Value(std::numeric_limits<double>::quiet_NaN());
      if (text == "Infinity") candidate = Value(std::numeric_limits<double>::infinity());
      if (text == "-Infinity") candidate = Value(-std::numeric_limits<double>::infinity());
    } else if (scalar == Scalar::uint32 || scalar == Scalar::uint64) {
      std::uint64_t u = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), u);
      if (ec != std::errc() || end != text.data() + text.size()) {
        return refusal("bad default '" + text + "'");
      }
      candidate = Value(u);
    } else {
      std::int64_t i = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (ec != std::errc() || end != text.data() + text.size()) {
        return refusal("bad default '" + text + "'");
      }
      candidate = Value(i);
    }
  }
  auto converted = to_scalar(scalar, candidate);
  if (!converted) return refusal("default " + value.dump() + ": " + converted.error());
  return converted;
}

Value zero_of(Scalar scalar) {
  switch (scalar) {
    case Scalar::int32:
    case Scalar::int64:
      return Value(std::int64_t{0});
    case Scalar::uint32:
    case Scalar::uint64:
      return Value(std::uint64_t{0});
    case Scalar::float32:
    case Scalar::float64:
      return Value(0.0);
    case Scalar::boolean:
      return Value(false);
    case Scalar::string:
      return Value(std::string());
    case Scalar::bytes:
      return Value(Bytes{});
  }
  return Value(nullptr);
}

struct FieldReader {
  const std::map<std::string, const MessageType*, std::less<>>& types;
  MessageType& owner;
  std::vector<std::string>& oneofs;

  tl::expected<Field, std::string> read(const json& entry) const {
    static constexpr std::string_view kKeys[] = {
        "name", "scalar", "enum", "message", "repeated", "map_key", "oneof", "presence", "default"};
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
      return refusal("a field is an object with a string \"name\"");
    }
    Field field;
    field.name = entry["name"].get<std::string>();
    const auto bad = [&](const std::string& why) {
      return refusal("field '" + field.name + "': " + why);
    };
    for (const auto& [key, value] : entry.items()) {
      if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
        return bad("unknown key \"" + key + "\"");
      }
    }
    const int kinds = entry.contains("scalar") + entry.contains("enum") + entry.contains("message");
    if (kinds != 1) return bad("exactly one of \"scalar\", \"enum\" and \"message\"");
    const auto text = [&](const char* key) -> std::optional<std::string> {
      if (!entry.contains(key) || !entry[key].is_string()) return std::nullopt;
      return entry[key].get<std::string>();
    };
    if (entry.contains("scalar")) {
      const auto name = text("scalar");
      const auto scalar = name ? scalar_named(*name) : std::nullopt;
      if (!scalar) return bad("unknown scalar type " + entry["scalar"].dump());
      field.type.scalar = *scalar;
    } else if (entry.contains("enum")) {
      auto name = text("enum");
      if (!name || name->empty()) return bad("\"enum\" names an enum type");
      field.type.kind = FieldType::Kind::enumeration;
      field.type.name = *name;
    } else {
      auto name = text("message");
      if (!name) return bad("\"message\" names a message type");
      field.type.name = *name;
      if (is_well_known_type(*name) || *name == kAny) {
        field.type.kind = FieldType::Kind::well_known;
      } else if (const auto found = types.find(*name); found != types.end()) {
        field.type.kind = FieldType::Kind::message;
        field.type.message = found->second;
      } else {
        return bad("unknown message type '" + *name + "'");
      }
    }
    if (entry.contains("repeated")) {
      if (!entry["repeated"].is_boolean()) return bad("\"repeated\" is true or false");
      if (entry["repeated"].get<bool>()) field.label = Field::Label::repeated;
    }
    if (entry.contains("map_key")) {
      if (field.label == Field::Label::repeated) return bad("a map field is not repeated");
      const auto name = text("map_key");
      const auto key = name ? scalar_named(*name) : std::nullopt;
      if (!key || *key == Scalar::float32 || *key == Scalar::float64 || *key == Scalar::bytes) {
        return bad("a map key is an integer, bool or string type");
      }
      field.label = Field::Label::map;
      field.key = *key;
    }
    const bool single = field.label == Field::Label::single;
    field.presence =
        single && (owner.syntax == Syntax::proto2 || field.type.kind == FieldType::Kind::message ||
                   field.type.kind == FieldType::Kind::well_known);
    if (entry.contains("presence")) {
      const auto presence = text("presence");
      if (presence != "explicit" && presence != "implicit") {
        return bad("\"presence\" is \"explicit\" or \"implicit\"");
      }
      if (!single) return bad("repeated and map fields have no presence");
      const bool is_message = field.type.kind == FieldType::Kind::message ||
                              field.type.kind == FieldType::Kind::well_known;
      if (is_message && presence == "implicit") return bad("a message field has presence");
      field.presence = presence == "explicit";
    }
    if (entry.contains("oneof")) {
      auto oneof = text("oneof");
      if (!oneof || !single) return bad("\"oneof\" names the oneof of a single field");
      auto at = std::find(oneofs.begin(), oneofs.end(), *oneof);
      if (at == oneofs.end()) at = oneofs.insert(oneofs.end(), *oneof);
      field.oneof = static_cast<std::size_t>(at - oneofs.begin());
      field.presence = true;  // a oneof records which member is set, zero or not
    }
    if (field.type.kind == FieldType::Kind::scalar)
      field.default_value = zero_of(field.type.scalar);
    if (field.type.kind == FieldType::Kind::enumeration) {
      field.default_value = field.type.name == kNullValue ? Value(nullptr) : Value(std::int64_t{0});
    }
    if (entry.contains("default")) {
      if (!single || (field.type.kind != FieldType::Kind::scalar &&
                      field.type.kind != FieldType::Kind::enumeration)) {
        return bad("only single scalar and enum fields have a default");
      }
      const Scalar scalar =
          field.type.kind == FieldType::Kind::scalar ? field.type.scalar : Scalar::int32;
      auto value = read_default(scalar, entry["default"]);
      if (!value) return bad(value.error());
      field.default_value = std::move(*value);
    }
    return field;
  }
};

}  // namespace

float to_float(double d) {
  constexpr double kHalfwayPastMax = 0x1.ffffffp+127;  // FLT_MAX plus half its last place
  constexpr float kMax = std::numeric_limits<float>::max();
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  if (std::abs(d) >= kHalfwayPastMax) return d > 0 ? kInfinity : -kInfinity;
  if (std::abs(d) > kMax) return d > 0 ? kMax : -kMax;
  return static_cast<float>(d);  // NaN stays NaN
}

const Field* MessageType::find(std::string_view field) const {
  const auto it = field_index.find(field);
  return it == field_index.end() ? nullptr : &fields[it->second];
}

tl::expected<std::shared_ptr<const TypeRegistry>, std::string> TypeRegistry::from_json(
    const json& types) {
  if (!types.is_array()) return refusal("a schema is a JSON array of message types");
  std::shared_ptr<TypeRegistry> registry(new TypeRegistry());
  // Every name first: fields may refer to types defined later, or to their own.
  for (const json& entry : types) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
        !entry.contains("fields") || !entry["fields"].is_array()) {
      return refusal("a message type is an object with a string \"name\" and a \"fields\" array");
    }
    auto type = std::make_unique<MessageType>();
    type->name = entry["name"].get<std::string>();
    const std::string syntax = entry.value("syntax", "");
    if (syntax != "proto2" && syntax != "proto3") {
      return refusal("type '" + type->name + "': \"syntax\" is \"proto2\" or \"proto3\"");
    }
    type->syntax = syntax == "proto2" ? Syntax::proto2 : Syntax::proto3;
    if (type->name.empty() || type->name.front() == '.' || is_well_known_type(type->name) ||
        type->name == kAny) {
      return refusal("type '" + type->name + "': not a name a schema can define");
    }
    if (!registry->by_name_.emplace(type->name, type.get()).second) {
      return refusal("type '" + type->name + "' is defined twice");
    }
    registry->types_.push_back(std::move(type));
  }
  for (std::size_t i = 0; i < registry->types_.size(); ++i) {
    MessageType& type = *registry->types_[i];
    std::vector<std::string> oneofs;
    const FieldReader reader{registry->by_name_, type, oneofs};
    for (const json& entry : types[i]["fields"]) {
      auto field = reader.read(entry);
      if (!field) return refusal("type '" + type.name + "': " + field.error());
      if (!type.field_index.emplace(field->name, type.fields.size()).second) {
        return refusal("type '" + type.name + "': field '" + field->name + "' is defined twice");
      }
      type.fields.push_back(std::move(*field));
    }
  }
  return std::shared_ptr<const TypeRegistry>(std::move(registry));
}

std::shared_ptr<const MessageType> TypeRegistry::find(std::string_view name) const {
  const auto it = by_name_.find(name);
  if (it == by_name_.end()) return nullptr;
  return std::shared_ptr<const MessageType>(shared_from_this(), it->second);
}

tl::expected<Value, std::string> MessageValue::make(
    std::shared_ptr<const MessageType> type,
    const std::vector<std::pair<std::string, Value>>& fields) {
  RELIANT_ASSERT(type != nullptr);
  Fields out;
  for (const auto& [name, value] : fields) {
    const auto it = type->field_index.find(name);
    if (it == type->field_index.end())
      return refusal("no such field '" + name + "' in " + type->name);
    const std::size_t index = it->second;
    const Field& field = type->fields[index];
    auto assigned = assign(*type, field, value);
    if (!assigned) return tl::unexpected(std::move(assigned.error()));
    // The last assignment wins, over the field's own earlier one and over its oneof's members.
    std::erase_if(out, [&](const auto& set) {
      return set.first == index || (field.oneof && type->fields[set.first].oneof == field.oneof);
    });
    if (*assigned) out.emplace_back(index, std::move(**assigned));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return Value(std::make_shared<const MessageValue>(std::move(type), std::move(out)));
}

tl::expected<Value, std::string> MessageValue::get(std::string_view name) const {
  const Field* field = type_->find(name);
  if (!field) return refusal("no such field '" + std::string(name) + "' in " + type_->name);
  const auto index = static_cast<std::size_t>(field - type_->fields.data());
  for (const auto& [set, value] : fields_) {
    if (set == index) return value;
  }
  return default_of(type_, *field);
}

tl::expected<bool, std::string> MessageValue::has(std::string_view name) const {
  const Field* field = type_->find(name);
  if (!field) return refusal("no such field '" + std::string(name) + "' in " + type_->name);
  const auto index = static_cast<std::size_t>(field - type_->fields.data());
  return std::any_of(fields_.begin(), fields_.end(),
                     [&](const auto& set) { return set.first == index; });
}

std::vector<std::string> candidate_names(std::string_view name, std::string_view container) {
  if (!name.empty() && name.front() == '.') return {std::string(name.substr(1))};
  std::vector<std::string> out;
  std::string_view prefix = container;
  while (!prefix.empty()) {
    out.push_back(std::string(prefix) + "." + std::string(name));
    const auto dot = prefix.rfind('.');
    prefix = dot == std::string_view::npos ? std::string_view() : prefix.substr(0, dot);
  }
  out.emplace_back(name);
  return out;
}

}  // namespace reliant::cel
