// CEL values: construction, heterogeneous equality and ordering, maps keyed by value, JSON.
#include "core/cel/value.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <unordered_map>

#include "base/assert.h"
#include "base/base64url.h"
#include "core/cel/functions.h"
#include "core/cel/messages.h"
#include "core/cel/timestamps.h"

namespace reliant::cel {
namespace {

// Every int64 and uint64 is exact as a long double on the platforms we build for (x86-64's
// 64-bit mantissa, aarch64's quad), so integers compare exactly across int and uint.
static_assert(std::numeric_limits<long double>::digits >= 64);

// Numbers on one line: integers exactly, and an integer against a double as a double, as
// cel-spec's conformance data asks ("the conversion of the int to double is lossy and the numbers
// end up being equal": 2^63 - 1 equals 2^63.0). nullopt when either is not a number.
std::optional<std::partial_ordering> numeric_order(const Value& a, const Value& b) {
  const auto as_double = [](const Value& v) -> std::optional<double> {
    if (const auto* i = v.get_if<std::int64_t>()) return static_cast<double>(*i);
    if (const auto* u = v.get_if<std::uint64_t>()) return static_cast<double>(*u);
    if (const auto* d = v.get_if<double>()) return *d;
    return std::nullopt;
  };
  const auto x = as_double(a), y = as_double(b);
  if (!x || !y) return std::nullopt;
  if (a.is<double>() || b.is<double>()) return *x <=> *y;  // unordered with NaN
  const auto exact = [](const Value& v) {
    if (const auto* i = v.get_if<std::int64_t>()) return static_cast<long double>(*i);
    return static_cast<long double>(*v.get_if<std::uint64_t>());
  };
  return exact(a) <=> exact(b);
}

// Nanoseconds as ".123", ".123456" or ".123456789"; nothing for zero.
std::string fraction(std::int32_t nanos) {
  if (nanos == 0) return "";
  char buffer[16];
  if (nanos % 1'000'000 == 0) {
    std::snprintf(buffer, sizeof buffer, ".%03d", nanos / 1'000'000);
  } else if (nanos % 1'000 == 0) {
    std::snprintf(buffer, sizeof buffer, ".%06d", nanos / 1'000);
  } else {
    std::snprintf(buffer, sizeof buffer, ".%09d", nanos);
  }
  return buffer;
}

}  // namespace

Value::Value(ValueList list) : storage_(std::make_shared<const ValueList>(std::move(list))) {}
Value::Value(ValueMap map) : storage_(std::make_shared<const ValueMap>(std::move(map))) {}

Value Value::from_constant(const Constant& constant) {
  return std::visit(
      [](const auto& c) -> Value {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return Value(nullptr);
        } else {
          return Value(c);
        }
      },
      constant);
}

const ValueList* Value::list() const {
  const auto* list = get_if<std::shared_ptr<const ValueList>>();
  return list ? list->get() : nullptr;
}

const ValueMap* Value::map() const {
  const auto* map = get_if<std::shared_ptr<const ValueMap>>();
  return map ? map->get() : nullptr;
}

const MessageValue* Value::message() const {
  const auto* message = get_if<std::shared_ptr<const MessageValue>>();
  return message ? message->get() : nullptr;
}

std::string_view Value::type_name() const {
  return std::visit(
      [](const auto& v) -> std::string_view {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) return "null_type";
        if constexpr (std::is_same_v<T, bool>) return "bool";
        if constexpr (std::is_same_v<T, std::int64_t>) return "int";
        if constexpr (std::is_same_v<T, std::uint64_t>) return "uint";
        if constexpr (std::is_same_v<T, double>) return "double";
        if constexpr (std::is_same_v<T, std::string>) return "string";
        if constexpr (std::is_same_v<T, Bytes>) return "bytes";
        if constexpr (std::is_same_v<T, std::shared_ptr<const ValueList>>) return "list";
        if constexpr (std::is_same_v<T, std::shared_ptr<const ValueMap>>) return "map";
        if constexpr (std::is_same_v<T, Timestamp>) return "google.protobuf.Timestamp";
        if constexpr (std::is_same_v<T, Duration>) return "google.protobuf.Duration";
        if constexpr (std::is_same_v<T, Type>) return "type";
        if constexpr (std::is_same_v<T, Optional>) return "optional_type";
        if constexpr (std::is_same_v<T, std::shared_ptr<const MessageValue>>) {
          return v->type().name;
        }
      },
      storage_);
}

bool equal(const Value& a, const Value& b, Budget* budget) {
  // One step per element, entry or field compared, at every depth, and one per 16 bytes of
  // text: comparing large values in a loop runs out of budget instead of time.
  const auto charge = [budget](std::int64_t steps) {
    return budget == nullptr || budget->charge(steps);
  };
  if (auto order = numeric_order(a, b)) return *order == 0;  // NaN: unordered, so false
  if (a.storage().index() != b.storage().index()) return false;
  if (const auto* list = a.list()) {
    const ValueList& other = *b.list();
    if (list->size() != other.size()) return false;
    for (std::size_t i = 0; i < list->size(); ++i) {
      if (!charge(1) || !equal((*list)[i], other[i], budget)) return false;
    }
    return true;
  }
  if (const auto* map = a.map()) {
    const ValueMap& other = *b.map();
    if (map->size() != other.size()) return false;
    for (const auto& [key, value] : map->entries()) {
      const Value* found = other.find(key);
      if (!charge(1) || !found || !equal(value, *found, budget)) return false;
    }
    return true;
  }
  if (const auto* optional = a.get_if<Optional>()) {
    const auto& other = std::get<Optional>(b.storage());
    if (!optional->value || !other.value) return !optional->value && !other.value;
    return equal(*optional->value, *other.value, budget);
  }
  if (const MessageValue* message = a.message()) {
    // Positions in fields() name the same fields only within one type.
    const MessageValue& other = *b.message();
    if (&message->type() != &other.type()) return false;
    if (message->fields().size() != other.fields().size()) return false;
    for (std::size_t i = 0; i < message->fields().size(); ++i) {
      const auto& [field, value] = message->fields()[i];
      const auto& [other_field, other_value] = other.fields()[i];
      if (!charge(1) || field != other_field || !equal(value, other_value, budget)) return false;
    }
    return true;
  }
  if (const auto* text = a.get_if<std::string>()) {
    if (budget != nullptr && !budget->charge_bytes(text->size())) return false;
  }
  return a.storage() == b.storage();
}

bool operator==(const Value& a, const Value& b) { return equal(a, b, nullptr); }

std::optional<std::partial_ordering> compare(const Value& a, const Value& b) {
  if (auto order = numeric_order(a, b)) {
    if (*order == std::partial_ordering::unordered) return std::nullopt;
    return order;
  }
  if (a.storage().index() != b.storage().index()) return std::nullopt;
  if (const auto* s = a.get_if<std::string>()) return *s <=> *b.get_if<std::string>();
  if (const auto* o = a.get_if<Bytes>()) return o->octets <=> b.get_if<Bytes>()->octets;
  if (const auto* f = a.get_if<bool>()) return *f <=> *b.get_if<bool>();
  if (const auto* t = a.get_if<Timestamp>()) return *t <=> *b.get_if<Timestamp>();
  if (const auto* d = a.get_if<Duration>()) return *d <=> *b.get_if<Duration>();
  return std::nullopt;
}

std::optional<ValueMap::KeyId> ValueMap::key_id(const Value& key) {
  if (const auto* b = key.get_if<bool>()) return KeyId(*b);
  if (const auto* s = key.get_if<std::string>()) return KeyId(*s);
  if (const auto* i = key.get_if<std::int64_t>()) return KeyId(*i);
  if (const auto* u = key.get_if<std::uint64_t>()) {
    if (*u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return KeyId(static_cast<std::int64_t>(*u));
    return KeyId(*u);
  }
  if (const auto* d = key.get_if<double>()) {
    // Only a lookup gets here (insert refuses doubles): 1.0 finds the key 1.
    if (!std::isfinite(*d) || std::trunc(*d) != *d) return std::nullopt;
    if (*d >= -9223372036854775808.0 && *d < 9223372036854775808.0)
      return KeyId(static_cast<std::int64_t>(*d));
    if (*d >= 0 && *d < 18446744073709551616.0) return KeyId(static_cast<std::uint64_t>(*d));
  }
  return std::nullopt;
}

std::size_t ValueMap::position(const KeyId& id) const {
  if (entries_.size() > kScanMax) {
    const auto it = index_.find(id);
    return it == index_.end() ? entries_.size() : it->second;
  }
  const auto* name = std::get_if<std::string>(&id);
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const Value& key = entries_[i].first;
    const auto* key_name = key.get_if<std::string>();
    if (name != nullptr || key_name != nullptr) {  // strings equal only strings: no copies
      if (name != nullptr && key_name != nullptr && *name == *key_name) return i;
      continue;
    }
    if (key_id(key) == id) return i;
  }
  return entries_.size();
}

bool ValueMap::insert(Value key, Value value) {
  if (key.is<double>()) return false;
  auto id = key_id(key);
  if (!id) return false;
  if (position(*id) != entries_.size()) return false;
  entries_.emplace_back(std::move(key), std::move(value));
  if (entries_.size() == kScanMax + 1) {
    for (std::size_t i = 0; i < entries_.size(); ++i) index_.emplace(*key_id(entries_[i].first), i);
  } else if (entries_.size() > kScanMax + 1) {
    index_.emplace(std::move(*id), entries_.size() - 1);
  }
  return true;
}

bool ValueMap::set(Value key, Value value) {
  if (key.is<double>()) return false;
  auto id = key_id(key);
  if (!id) return false;
  if (const auto at = position(*id); at != entries_.size()) {
    entries_[at].second = std::move(value);
    return true;
  }
  return insert(std::move(key), std::move(value));
}

const Value* ValueMap::find(const Value& key) const {
  if (const auto* name = key.get_if<std::string>()) return find(std::string_view(*name));
  auto id = key_id(key);
  if (!id) return nullptr;
  const auto at = position(*id);
  return at == entries_.size() ? nullptr : &entries_[at].second;
}

const Value* ValueMap::find(std::string_view name) const {
  if (entries_.size() > kScanMax) {
    const auto it = index_.find(KeyId(std::string(name)));
    return it == index_.end() ? nullptr : &entries_[it->second].second;
  }
  for (const auto& [key, value] : entries_) {
    const auto* s = key.get_if<std::string>();
    if (s != nullptr && *s == name) return &value;
  }
  return nullptr;
}

Value from_json(const nlohmann::json& json) {
  switch (json.type()) {
    case nlohmann::json::value_t::null:
      return Value(nullptr);
    case nlohmann::json::value_t::boolean:
      return Value(json.get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(json.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto u = json.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return Value(static_cast<std::int64_t>(u));
      return Value(u);
    }
    case nlohmann::json::value_t::number_float:
      return Value(json.get<double>());
    case nlohmann::json::value_t::string:
      return Value(json.get<std::string>());
    case nlohmann::json::value_t::array: {
      ValueList list;
      list.reserve(json.size());
      for (const auto& element : json) list.push_back(from_json(element));
      return Value(std::move(list));
    }
    case nlohmann::json::value_t::object: {
      ValueMap map;
      for (const auto& [key, element] : json.items()) {
        const bool added = map.insert(Value(key), from_json(element));
        RELIANT_ASSERT(added);  // a JSON object's keys are distinct strings
      }
      return Value(std::move(map));
    }
    case nlohmann::json::value_t::binary: {
      const auto& binary = json.get_binary();
      return Value(Bytes{std::string(binary.begin(), binary.end())});
    }
    case nlohmann::json::value_t::discarded:
      break;
  }
  return Value(nullptr);
}

nlohmann::json to_json(const Value& value) {
  return std::visit(
      [](const auto& v) -> nlohmann::json {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, double>) {
          if (std::isnan(v)) return "NaN";
          if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
          return v;
        } else if constexpr (std::is_same_v<T, Bytes>) {
          // Standard base64 with padding, as proto3 JSON prints bytes: base64url's alphabet
          // differs in two characters.
          std::string out = base64url_encode(v.octets);
          for (char& c : out) {
            if (c == '-') c = '+';
            if (c == '_') c = '/';
          }
          while (out.size() % 4 != 0) out += '=';
          return out;
        } else if constexpr (std::is_same_v<T, std::shared_ptr<const ValueList>>) {
          nlohmann::json out = nlohmann::json::array();
          for (const auto& element : *v) out.push_back(to_json(element));
          return out;
        } else if constexpr (std::is_same_v<T, std::shared_ptr<const ValueMap>>) {
          nlohmann::json out = nlohmann::json::object();
          for (const auto& [key, element] : v->entries()) {
            const auto* text = std::get_if<std::string>(&key.storage());
            out[text ? *text : to_json(key).dump()] = to_json(element);
          }
          return out;
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return format_timestamp(v);
        } else if constexpr (std::is_same_v<T, Duration>) {
          return format_duration(v);
        } else if constexpr (std::is_same_v<T, Type>) {
          return v.name;
        } else if constexpr (std::is_same_v<T, Optional>) {
          return v.value ? to_json(*v.value) : nlohmann::json(nullptr);
        } else if constexpr (std::is_same_v<T, std::shared_ptr<const MessageValue>>) {
          nlohmann::json out = nlohmann::json::object();
          for (const auto& [field, element] : v->fields()) {
            out[v->type().fields[field].name] = to_json(element);
          }
          return out;
        } else {
          return v;  // bool, int64, uint64, string
        }
      },
      value.storage());
}

namespace {

// A value's nesting and its units written out (see oversize), shared parts walked once. The walk
// stops at the first bound passed, so it visits at most units_max + 1 elements.
class ExtentWalk {
 public:
  ExtentWalk(std::size_t depth_max, std::uint64_t units_max)
      : depth_max_(depth_max), units_max_(units_max) {}

  struct Extent {
    std::size_t depth = 0;    // levels below this value
    std::uint64_t units = 0;  // at most units_max + 1
  };

  bool too_deep() const { return too_deep_; }
  bool too_big() const { return too_big_; }
  std::uint64_t walked() const { return walked_; }

 private:
  std::optional<Extent> leaf(std::uint64_t units) { return bounded(Extent{0, units}); }
  std::optional<Extent> bounded(Extent extent) {
    if (extent.units <= units_max_) return extent;
    too_big_ = true;
    return std::nullopt;
  }

  template <class ForEach>
  std::optional<Extent> shared(const void* container, std::size_t level, ForEach&& for_each) {
    if (const auto known = seen_.find(container); known != seen_.end()) {
      // Seen at another level: its depth below it is the same, so only the total moves.
      if (level + known->second.depth > depth_max_) {
        too_deep_ = true;
        return std::nullopt;
      }
      return known->second;
    }
    Extent extent{0, 1};
    bool passed = false;
    for_each([&](const Value& element) {
      const auto inner = of(element, level + 1);
      // Both terms are at most units_max + 1: no overflow for any bound below 2^62.
      if (!inner || !bounded(Extent{0, extent.units + inner->units})) {
        passed = true;
        return false;
      }
      extent.depth = std::max(extent.depth, inner->depth + 1);
      extent.units += inner->units;
      return true;
    });
    if (passed) return std::nullopt;
    seen_.emplace(container, extent);
    return extent;
  }

 public:
  // After shared(), which it calls from a generic lambda: clang takes a member template of a
  // class of internal linkage called there before its definition for one that is never defined
  // (-Wundefined-internal), and tools/fuzz.sh builds with clang.
  // nullopt: a bound is passed (too_deep() or too_big() says which).
  std::optional<Extent> of(const Value& value, std::size_t level) {
    if (level > depth_max_) {
      too_deep_ = true;
      return std::nullopt;
    }
    ++walked_;
    return std::visit(
        [&](const auto& v) -> std::optional<Extent> {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::string>) {
            return leaf(1 + v.size() / 16);
          } else if constexpr (std::is_same_v<T, Bytes>) {
            return leaf(1 + v.octets.size() / 16);
          } else if constexpr (std::is_same_v<T, std::shared_ptr<const ValueList>>) {
            return shared(v.get(), level, [&](auto&& each) {
              for (const auto& element : *v) {
                if (!each(element)) return;
              }
            });
          } else if constexpr (std::is_same_v<T, std::shared_ptr<const ValueMap>>) {
            return shared(v.get(), level, [&](auto&& each) {
              for (const auto& [key, element] : v->entries()) {
                if (!each(key) || !each(element)) return;
              }
            });
          } else if constexpr (std::is_same_v<T, std::shared_ptr<const MessageValue>>) {
            return shared(v.get(), level, [&](auto&& each) {
              for (const auto& [field, element] : v->fields()) {
                if (!each(element)) return;
              }
            });
          } else if constexpr (std::is_same_v<T, Optional>) {
            if (!v.value) return Extent{0, 1};
            auto inner = of(*v.value, level + 1);
            if (!inner) return std::nullopt;
            return bounded(Extent{inner->depth + 1, inner->units + 1});
          } else {
            return Extent{0, 1};
          }
        },
        value.storage());
  }

 private:
  std::size_t depth_max_;
  std::uint64_t units_max_;
  bool too_deep_ = false;
  bool too_big_ = false;
  std::uint64_t walked_ = 0;
  std::unordered_map<const void*, Extent> seen_;
};

}  // namespace

std::optional<std::string> oversize(const Value& value, std::size_t depth_max,
                                    std::uint64_t units_max, std::uint64_t* walked) {
  RELIANT_ASSERT(units_max < (std::uint64_t{1} << 62));
  ExtentWalk walk(depth_max, units_max);
  const bool fits = walk.of(value, 0).has_value();
  if (walked != nullptr) *walked = walk.walked();
  if (fits) return std::nullopt;
  if (walk.too_deep()) {
    return "the value nests deeper than " + std::to_string(depth_max) + " levels";
  }
  RELIANT_ASSERT(walk.too_big());
  return "the value is too big: more than " + std::to_string(units_max) +
         " elements (or 16-byte pieces of text) written out";
}

std::string format_timestamp(const Timestamp& t) {
  const std::int64_t days = (t.seconds >= 0 ? t.seconds : t.seconds - 86399) / 86400;
  const std::int64_t second_of_day = t.seconds - days * 86400;
  std::int64_t year = 0;
  unsigned month = 0, day = 0;
  civil_from_days(days, year, month, day);
  char buffer[96];  // far more than a year of 4 digits needs; GCC bounds each field loosely
  std::snprintf(
      buffer, sizeof buffer, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(year),
      month, day, static_cast<long long>(second_of_day / 3600),
      static_cast<long long>(second_of_day / 60 % 60), static_cast<long long>(second_of_day % 60));
  return std::string(buffer) + fraction(t.nanos) + "Z";
}

std::string format_duration(const Duration& d) {
  const bool negative = d.seconds < 0 || d.nanos < 0;
  const std::uint64_t seconds =
      negative ? 0 - static_cast<std::uint64_t>(d.seconds) : static_cast<std::uint64_t>(d.seconds);
  const std::int32_t nanos = d.nanos < 0 ? -d.nanos : d.nanos;
  return (negative ? "-" : "") + std::to_string(seconds) + fraction(nanos) + "s";
}

}  // namespace reliant::cel
