// Protobuf messages as CEL values (cel-spec doc/langdef.md, "Protocol buffer types"): message
// types registered from data (a JSON schema, TypeRegistry::from_json), and message values that
// hold the fields set on them. Selecting an unset field gives its default; has() is protobuf's
// presence (a proto3 scalar is set when it is not zero, a repeated or map field when it is not
// empty). google.protobuf's well-known types are not registered: they stand for CEL values
// (core/cel/well_known.h), in fields too. Nothing here reads protobuf's wire format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "core/cel/value.h"

namespace reliant::cel {

// protobuf's scalar types as CEL sees them: sint32 and sfixed32 are int32, fixed32 is uint32 (and
// likewise at 64 bits); they differ only on the wire. float32 and float64 are float and double.
enum class Scalar : std::uint8_t {
  int32,
  int64,
  uint32,
  uint64,
  float32,
  float64,
  boolean,
  string,
  bytes
};

struct MessageType;

// The type of a field's values: of its elements when it is repeated, of its values when a map.
struct FieldType {
  enum class Kind : std::uint8_t {
    scalar,
    enumeration,  // an int in int32's range; google.protobuf.NullValue is null instead
    message,      // a registered message type
    well_known,   // google.protobuf's wrappers, Any, Value, Struct, ListValue, Duration, Timestamp
  };
  Kind kind = Kind::scalar;
  Scalar scalar = Scalar::int64;         // kind scalar
  std::string name;                      // the full name, for the other kinds
  const MessageType* message = nullptr;  // kind message: a type of the same registry
};

struct Field {
  enum class Label : std::uint8_t { single, repeated, map };
  std::string name;
  FieldType type;
  Label label = Label::single;
  Scalar key = Scalar::string;  // a map's key type: an integer, bool or string
  // Whether a single field set to its zero value counts as set: proto2's fields, proto3's
  // `optional` and oneof members, and fields of message types. Repeated and map fields have none.
  bool presence = false;
  std::optional<std::size_t> oneof;  // setting one member of a oneof clears the others
  Value default_value;  // what an unset single scalar or enum field reads as (proto2 [default])
};

enum class Syntax : std::uint8_t { proto2, proto3 };

struct MessageType {
  std::string name;  // full name, no leading dot: "cel.expr.conformance.proto3.TestAllTypes"
  Syntax syntax = Syntax::proto3;
  std::vector<Field> fields;  // in declaration order
  std::map<std::string, std::size_t, std::less<>> field_index;

  const Field* find(std::string_view field) const;
};

// The message types of one schema. Types refer to each other by pointer, and message values keep
// their registry alive (they hold their type through the registry's shared_ptr), so a value may
// outlive the evaluation and the EvalOptions that made it.
class TypeRegistry : public std::enable_shared_from_this<TypeRegistry> {
 public:
  // Reads a schema: a JSON array of message types, each
  //   {"name": "pkg.Msg", "syntax": "proto2" | "proto3", "fields": [field, …]}
  // and each field
  //   {"name": "f", then exactly one of "scalar": "int32" (any protobuf scalar type name),
  //    "enum": "pkg.Enum" or "message": "pkg.Other" (registered, or a well-known type);
  //    optionally "repeated": true or "map_key": SCALAR, "presence": "explicit" | "implicit"
  //    (default: explicit in proto2 and for messages, implicit for proto3 scalars and enums),
  //    "oneof": "name", "default": a proto3 JSON value (proto2 [default = …])}.
  // Fails, saying where, on anything else, a name given twice, or a type no schema entry defines.
  static tl::expected<std::shared_ptr<const TypeRegistry>, std::string> from_json(
      const nlohmann::json& types);

  // The type with full name `name` (no leading dot), or null. The pointer keeps the registry
  // alive.
  std::shared_ptr<const MessageType> find(std::string_view name) const;

 private:
  TypeRegistry() = default;
  std::vector<std::unique_ptr<MessageType>> types_;
  std::map<std::string, const MessageType*, std::less<>> by_name_;
};

// A message: its type and the fields set on it, by position in type().fields, in order.
class MessageValue {
 public:
  using Fields = std::vector<std::pair<std::size_t, Value>>;

  // `type{field: value, …}`: each value converted to its field's type and range-checked. A null
  // leaves a field of message type (a wrapper, Duration, Timestamp, Any, registered) unset; a
  // proto3 scalar at its zero value and an empty list or map are unset too. Errors: a field the
  // type lacks ("no such field"), a value of the wrong type, or out of the field's range.
  static tl::expected<Value, std::string> make(
      std::shared_ptr<const MessageType> type,
      const std::vector<std::pair<std::string, Value>>& fields);

  const MessageType& type() const { return *type_; }
  const Fields& fields() const { return fields_; }

  // `message.name`: the field's value if set, else its default (0, "", [], {}, null for a
  // wrapper, Value or Any, an empty message of the field's type …). Error: no such field.
  tl::expected<Value, std::string> get(std::string_view name) const;
  // has(message.name). Error: no such field.
  tl::expected<bool, std::string> has(std::string_view name) const;

  MessageValue(std::shared_ptr<const MessageType> type, Fields fields)
      : type_(std::move(type)), fields_(std::move(fields)) {}

 private:
  std::shared_ptr<const MessageType> type_;
  Fields fields_;
};

// A double rounded to a float as IEEE 754 rounds, beyond float's range too (to ±infinity, as
// cel-spec asks), where a plain conversion is undefined behaviour.
float to_float(double d);

// The full names a type name written inside `container` may mean, the most specific first
// (cel-spec doc/langdef.md, "Name Resolution"): in container "a.b", "T" is "a.b.T", then "a.T",
// then "T"; "x.T" is "a.b.x.T", "a.x.T", "x.T". A leading dot (".a.T") names only "a.T".
std::vector<std::string> candidate_names(std::string_view name, std::string_view container);

}  // namespace reliant::cel
