// CEL values (cel-spec doc/langdef.md, "Values"): null, bool, int, uint, double, string, bytes,
// list, map, timestamp, duration, type, optional and protobuf message (core/cel/messages.h).
// Lists, maps and messages are immutable and shared, so copying a value is cheap whatever it
// holds. Equality is CEL's heterogeneous equality: numbers
// compare by value across int, uint and double, so 1 == 1u == 1.0, also as map keys.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/cel/ast.h"

namespace reliant::cel {

// Seconds since the Unix epoch plus nanoseconds (0 ≤ nanos < 1e9), from 0001-01-01T00:00:00Z to
// 9999-12-31T23:59:59.999999999Z.
struct Timestamp {
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;
  auto operator<=>(const Timestamp&) const = default;
};

// A signed span; seconds and nanos carry the same sign, |nanos| < 1e9. CEL's range is that of an
// int64 count of nanoseconds, about ±292 years (core/cel/timestamps.h checks it).
struct Duration {
  std::int64_t seconds = 0;
  std::int32_t nanos = 0;
  auto operator<=>(const Duration&) const = default;
};

inline constexpr std::int64_t kTimestampSecondsMin = -62135596800;  // 0001-01-01T00:00:00Z
inline constexpr std::int64_t kTimestampSecondsMax = 253402300799;  // 9999-12-31T23:59:59Z
// google.protobuf.Duration's bound (±10,000 years), wider than CEL's arithmetic allows.
inline constexpr std::int64_t kDurationSecondsMax = 315576000000;

// A type as a value: what type(x) returns. Named by CEL's type names ("int", "list",
// "google.protobuf.Timestamp", "null_type", "type" …).
struct Type {
  std::string name;
  bool operator==(const Type&) const = default;
};

class Value;
using ValueList = std::vector<Value>;
class ValueMap;
class MessageValue;
// An optional value (cel-spec's optionals): engaged, or optional.none().
struct Optional {
  std::shared_ptr<const Value> value;  // null: none
};

class Value {
 public:
  using Storage =
      std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string, Bytes,
                   std::shared_ptr<const ValueList>, std::shared_ptr<const ValueMap>, Timestamp,
                   Duration, Type, Optional, std::shared_ptr<const MessageValue>>;

  Value() : storage_(nullptr) {}
  Value(std::nullptr_t) : storage_(nullptr) {}        // NOLINT: implicit
  Value(bool b) : storage_(b) {}                      // NOLINT
  Value(std::int64_t i) : storage_(i) {}              // NOLINT
  Value(std::uint64_t u) : storage_(u) {}             // NOLINT
  Value(double d) : storage_(d) {}                    // NOLINT
  Value(std::string s) : storage_(std::move(s)) {}    // NOLINT
  Value(const char* s) : storage_(std::string(s)) {}  // NOLINT
  Value(Bytes b) : storage_(std::move(b)) {}          // NOLINT
  Value(ValueList list);                              // NOLINT
  Value(ValueMap map);                                // NOLINT
  explicit Value(std::shared_ptr<const ValueMap> map) : storage_(std::move(map)) {}
  Value(Timestamp t) : storage_(t) {}            // NOLINT
  Value(Duration d) : storage_(d) {}             // NOLINT
  Value(Type t) : storage_(std::move(t)) {}      // NOLINT
  Value(Optional o) : storage_(std::move(o)) {}  // NOLINT
  explicit Value(std::shared_ptr<const MessageValue> message) : storage_(std::move(message)) {}

  static Value from_constant(const Constant& constant);

  const Storage& storage() const { return storage_; }
  template <class T>
  const T* get_if() const {
    return std::get_if<T>(&storage_);
  }
  template <class T>
  bool is() const {
    return std::holds_alternative<T>(storage_);
  }
  const ValueList* list() const;
  const ValueMap* map() const;
  const MessageValue* message() const;

  // CEL's name for this value's type: "int", "map", "google.protobuf.Duration", a message's full
  // name …
  std::string_view type_name() const;

 private:
  Storage storage_;
};

// CEL's equality: false (never an error) across unrelated types; numbers by value; lists and
// maps element by element; messages of one type field by field (set fields only: a field set to
// its default differs from an unset one where the field has presence). NaN equals nothing,
// itself included.
bool operator==(const Value& a, const Value& b);
// The same, with its work charged to `budget` (null: free): a step per element, entry or field
// compared and per 16 bytes of text. Once the budget is spent the answer is meaningless: the
// caller checks Budget::exhausted().
class Budget;
bool equal(const Value& a, const Value& b, Budget* budget);

// CEL's ordering for `<` and friends: numbers across types, strings by code point, bytes by
// octet, bools, timestamps, durations. Unordered (nullopt) across other types and with NaN.
std::optional<std::partial_ordering> compare(const Value& a, const Value& b);

// An immutable map. Keys are bool, int, uint or string; 1, 1u and 1.0 name the same key.
// Entries keep the order they were given in, for printing.
class ValueMap {
 public:
  // Fails (returns false) on a key of another type, or a key given twice.
  bool insert(Value key, Value value);
  // Inserts, or replaces the value of an existing key (of a supported type); false otherwise.
  bool set(Value key, Value value);
  const Value* find(const Value& key) const;
  // A field: the entry under a string key (what `m.name` selects), found without building a key.
  const Value* find(std::string_view name) const;
  std::size_t size() const { return entries_.size(); }
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }

 private:
  // A key reduced to what identifies it: numbers as int64 or uint64 (a double key must be
  // integral), so equal numbers of different types land on one entry.
  using KeyId = std::variant<bool, std::int64_t, std::uint64_t, std::string>;
  static std::optional<KeyId> key_id(const Value& key);
  // Maps as workflows hold them (a node's output, a tool call) have a handful of entries: up to
  // this many are searched in order, and only a larger map builds the index.
  static constexpr std::size_t kScanMax = 12;
  std::size_t position(const KeyId& id) const;  // entries_.size() when absent

  std::vector<std::pair<Value, Value>> entries_;
  std::map<KeyId, std::size_t> index_;  // filled once entries_ outgrows kScanMax
};

// JSON to CEL: integers become int (uint beyond int64), other numbers double, objects maps with
// string keys, arrays lists.
Value from_json(const nlohmann::json& json);
// CEL to JSON for printing a result: uint and int as numbers, doubles as numbers (NaN and
// infinities as the strings "NaN", "Infinity", "-Infinity", as proto3 JSON does), bytes as
// base64, timestamps as RFC 3339, durations as "1.500s", types by name, optionals as their value
// or null, messages as an object of their set fields by field name; maps with non-string keys get
// the key's printed form.
nlohmann::json to_json(const Value& value);

// What an evaluation may hand back: its nesting at most kValueDepthMax deep, and at most
// kValueUnitsMax units written out — an element, entry or field, or 16 bytes of text. Lists
// and maps are shared, so a few thousand steps can build a value of 10^9 elements written out,
// and a loop feeding a value back (`iter.previous`) nests it deeper every iteration; writing
// out, comparing or destroying such a value recurses once a level and takes memory a unit.
// The depth stays below what the store reads back (kStoredJsonDepthMax, with the history's own
// levels around it).
inline constexpr std::size_t kValueDepthMax = 96;
inline constexpr std::uint64_t kValueUnitsMax = 1'000'000;
// What is wrong with keeping `value` under those bounds, or nothing. Each distinct list, map or
// message is walked once, and the walk stops at the first bound passed; `walked`, when given,
// gets the number of elements it visited, for the caller to charge (a value borrowed from a
// variable costs its evaluation a few steps, its walk its size). units_max is below 2^62.
std::optional<std::string> oversize(const Value& value, std::size_t depth_max = kValueDepthMax,
                                    std::uint64_t units_max = kValueUnitsMax,
                                    std::uint64_t* walked = nullptr);

// RFC 3339 in UTC with as many fractional digits as needed (0, 3, 6 or 9): 2026-11-24T10:00:00Z.
std::string format_timestamp(const Timestamp& t);
// Seconds with 0, 3, 6 or 9 fractional digits (as proto3 JSON) and an "s": "1.500s", "0s".
std::string format_duration(const Duration& d);

}  // namespace reliant::cel
