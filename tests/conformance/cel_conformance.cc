// cel-spec's conformance tests against reliant::cel: reads the JSON that
// tests/cel-conformance/export.mjs writes from @bufbuild/cel-spec, registers the message types
// its schema describes (TestAllTypes …), parses and evaluates each test in its container, and
// prints passed / failed / skipped per section (every skip with its reason) and the pass rate
// over all of them, skips counting as not passed. Exits 1 below kPassRateMin, 2 on bad input.
//   cel_conformance TESTS.json [--verbose]    --verbose: every failure and skip, with its
//   expression
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "base/base64url.h"
#include "core/cel/evaluator.h"
#include "core/cel/messages.h"
#include "core/cel/parser.h"
#include "core/cel/timestamps.h"
#include "core/cel/well_known.h"

namespace reliant::cel {
namespace {

// Just below the rate achieved when this was last raised: a regression fails the test.
constexpr double kPassRateMin = 98.9;

using json = nlohmann::json;
// A value, or why the test cannot be run (the reason it is skipped).
using Converted = tl::expected<Value, std::string>;

constexpr const char* kAnyLiterals =
    "google.protobuf.Any literals: their value is protobuf wire format, which this CEL does not "
    "decode";

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// IANA zones for the timestamp accessors, from the machine's tz database.
std::optional<std::string> load_zone(std::string_view name) {
  return read_file("/usr/share/zoneinfo/" + std::string(name));
}

std::optional<std::string> base64_decode(std::string text) {
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return base64url_decode(text);
}

std::int64_t to_int(const json& j) {
  return j.is_string() ? std::stoll(j.get<std::string>()) : j.get<std::int64_t>();
}
std::uint64_t to_uint(const json& j) {
  return j.is_string() ? std::stoull(j.get<std::string>()) : j.get<std::uint64_t>();
}

Converted from_proto_value(const json& v, const TypeRegistry& types);
Converted from_message(std::shared_ptr<const MessageType> type, const json& object,
                       const TypeRegistry& types);

// An objectValue: a google.protobuf.Any in proto3 JSON, whose well-known types carry "value",
// and whose registered message types carry their fields.
Converted from_object(const json& any, const TypeRegistry& types) {
  const std::string url = any.value("@type", "");
  const std::string type = url.substr(url.rfind('/') + 1);
  if (auto message = types.find(type)) return from_message(std::move(message), any, types);
  if (!is_well_known_type(type)) {
    return tl::unexpected("expected value of type '" + type + "', which the schema lacks");
  }
  const json& v = any.contains("value") ? any["value"] : json();
  if (type == "google.protobuf.Duration" || type == "google.protobuf.Timestamp") {
    auto parsed =
        type == "google.protobuf.Duration"
            ? parse_duration(v.get<std::string>()).map([](Duration d) { return Value(d); })
            : parse_timestamp(v.get<std::string>()).map([](Timestamp t) { return Value(t); });
    if (!parsed) return tl::unexpected("bad " + type + ": " + parsed.error());
    return *parsed;
  }
  if (type == "google.protobuf.Value" || type == "google.protobuf.Struct" ||
      type == "google.protobuf.ListValue") {
    return from_json(v);
  }
  // The wrappers: 64-bit integers are strings in proto3 JSON, bytes are base64.
  if (type == "google.protobuf.Int64Value" || type == "google.protobuf.Int32Value") {
    return Value(to_int(v));
  }
  if (type == "google.protobuf.UInt64Value" || type == "google.protobuf.UInt32Value") {
    return Value(to_uint(v));
  }
  if (type == "google.protobuf.BytesValue") {
    auto bytes = base64_decode(v.get<std::string>());
    if (!bytes) return tl::unexpected(std::string("bad base64 in BytesValue"));
    return Value(Bytes{*bytes});
  }
  if (type == "google.protobuf.DoubleValue" || type == "google.protobuf.FloatValue") {
    return from_proto_value(json{{"doubleValue", v}}, types);  // 1 is 1.0; "NaN", "Infinity"
  }
  return from_json(v);
}

// protobuf's JSON name of a field: lowerCamelCase ("single_int32" is "singleInt32").
std::string json_name(const std::string& field) {
  std::string out;
  bool upper = false;
  for (char c : field) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out += upper && c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    upper = false;
  }
  return out;
}

// One value of a field (an element, a map's value) in proto3 JSON.
Converted from_element(const FieldType& type, const json& v, const TypeRegistry& types) {
  switch (type.kind) {
    case FieldType::Kind::scalar:
      switch (type.scalar) {
        case Scalar::int32:
        case Scalar::int64:
          return Value(to_int(v));
        case Scalar::uint32:
        case Scalar::uint64:
          return Value(to_uint(v));
        case Scalar::float32:
        case Scalar::float64:
          return from_proto_value(json{{"doubleValue", v}}, types);
        case Scalar::boolean:
          return Value(v.get<bool>());
        case Scalar::string:
          return Value(v.get<std::string>());
        case Scalar::bytes:
          return from_proto_value(json{{"bytesValue", v}}, types);
      }
      break;
    case FieldType::Kind::enumeration:
      if (v.is_null()) return Value(nullptr);  // google.protobuf.NullValue
      if (!v.is_number_integer()) {
        return tl::unexpected(std::string("enum value names: the schema has no enum values"));
      }
      return Value(v.get<std::int64_t>());
    case FieldType::Kind::message:
      return from_message(types.find(type.name), v, types);
    case FieldType::Kind::well_known:
      if (type.name == "google.protobuf.Any") return from_object(v, types);
      return from_object(json{{"@type", type.name}, {"value", v}}, types);
  }
  return tl::unexpected("unsupported field value " + v.dump());
}

// A registered message in proto3 JSON (fields by JSON name or by name), built as a message
// literal with those fields would be.
Converted from_message(std::shared_ptr<const MessageType> type, const json& object,
                       const TypeRegistry& types) {
  std::vector<std::pair<std::string, Value>> fields;
  for (const auto& [key, v] : object.items()) {
    if (key == "@type") continue;
    const Field* field = type->find(key);
    for (std::size_t i = 0; !field && i < type->fields.size(); ++i) {
      if (json_name(type->fields[i].name) == key) field = &type->fields[i];
    }
    if (!field) return tl::unexpected("expected value: no field '" + key + "' in " + type->name);
    if (v.is_null() && field->type.name != "google.protobuf.Value") continue;  // unset
    Value value;
    if (field->label == Field::Label::repeated) {
      ValueList list;
      for (const json& element : v) {
        auto converted = from_element(field->type, element, types);
        if (!converted) return converted;
        list.push_back(std::move(*converted));
      }
      value = Value(std::move(list));
    } else if (field->label == Field::Label::map) {
      ValueMap map;
      for (const auto& [text, element] : v.items()) {
        // proto3 JSON writes every map key as a string.
        Value map_key(text);
        if (field->key == Scalar::boolean) map_key = Value(text == "true");
        if (field->key == Scalar::int32 || field->key == Scalar::int64) map_key = to_int(text);
        if (field->key == Scalar::uint32 || field->key == Scalar::uint64) map_key = to_uint(text);
        auto converted = from_element(field->type, element, types);
        if (!converted) return converted;
        map.insert(std::move(map_key), std::move(*converted));
      }
      value = Value(std::move(map));
    } else {
      auto converted = from_element(field->type, v, types);
      if (!converted) return converted;
      value = std::move(*converted);
    }
    fields.emplace_back(field->name, std::move(value));
  }
  auto message = MessageValue::make(std::move(type), fields);
  if (!message) return tl::unexpected("expected value: " + message.error());
  return *message;
}

// cel.expr.Value in proto3 JSON to a CEL value.
Converted from_proto_value(const json& v, const TypeRegistry& types) {
  if (v.contains("nullValue")) return Value(nullptr);
  if (v.contains("boolValue")) return Value(v["boolValue"].get<bool>());
  if (v.contains("int64Value")) return Value(to_int(v["int64Value"]));
  if (v.contains("uint64Value")) return Value(to_uint(v["uint64Value"]));
  if (v.contains("stringValue")) return Value(v["stringValue"].get<std::string>());
  if (v.contains("typeValue")) return Value(Type{v["typeValue"].get<std::string>()});
  if (v.contains("doubleValue")) {
    const json& d = v["doubleValue"];
    if (!d.is_string()) return Value(d.get<double>());
    const std::string text = d.get<std::string>();
    if (text == "NaN") return Value(std::nan(""));
    if (text == "Infinity") return Value(HUGE_VAL);
    if (text == "-Infinity") return Value(-HUGE_VAL);
    return Value(std::stod(text));
  }
  if (v.contains("bytesValue")) {
    auto bytes = base64_decode(v["bytesValue"].get<std::string>());
    if (!bytes) return tl::unexpected(std::string("bad base64 in bytesValue"));
    return Value(Bytes{*bytes});
  }
  if (v.contains("listValue")) {
    ValueList list;
    for (const json& element : v["listValue"].value("values", json::array())) {
      auto converted = from_proto_value(element, types);
      if (!converted) return converted;
      list.push_back(std::move(*converted));
    }
    return Value(std::move(list));
  }
  if (v.contains("mapValue")) {
    ValueMap map;
    for (const json& entry : v["mapValue"].value("entries", json::array())) {
      auto key = from_proto_value(entry["key"], types);
      if (!key) return key;
      auto value = from_proto_value(entry["value"], types);
      if (!value) return value;
      if (!map.insert(std::move(*key), std::move(*value))) {
        return tl::unexpected(std::string("bad map key in expected value"));
      }
    }
    return Value(std::move(map));
  }
  if (v.contains("enumValue"))
    return tl::unexpected(std::string("enum values: this CEL has no enums"));
  if (v.contains("objectValue")) return from_object(v["objectValue"], types);
  return tl::unexpected("unsupported value " + v.dump());
}

// Identity for the test's verdict: the same type as well as the same value (1 is not 1u here),
// NaN matching NaN.
bool same(const Value& a, const Value& b) {
  if (a.storage().index() != b.storage().index()) return false;
  if (const auto* x = a.get_if<double>()) {
    const double y = *b.get_if<double>();
    return (std::isnan(*x) && std::isnan(y)) || *x == y;
  }
  if (const ValueList* x = a.list()) {
    const ValueList* y = b.list();
    if (x->size() != y->size()) return false;
    for (std::size_t i = 0; i < x->size(); ++i) {
      if (!same((*x)[i], (*y)[i])) return false;
    }
    return true;
  }
  if (const ValueMap* x = a.map()) {
    const ValueMap* y = b.map();
    if (x->size() != y->size()) return false;
    for (const auto& [key, value] : x->entries()) {
      bool found = false;
      for (const auto& [other_key, other_value] : y->entries()) {
        found = found || (same(key, other_key) && same(value, other_value));
      }
      if (!found) return false;
    }
    return true;
  }
  if (const auto* x = a.get_if<Optional>()) {
    const auto& y = std::get<Optional>(b.storage());
    if (!x->value || !y.value) return !x->value && !y.value;
    return same(*x->value, *y.value);
  }
  return a == b;
}

// Why a tree cannot be evaluated here, if it constructs a message that this CEL cannot build: an
// Any (whose value is wire format), or a type neither well-known nor in the schema.
std::optional<std::string> unbuildable_message(const Expr& expr, const TypeRegistry& types,
                                               const std::string& container) {
  std::optional<std::string> found;
  const auto visit = [&](const Expr& e, const auto& self) -> void {
    if (found) return;
    std::visit(
        [&](const auto& node) {
          using T = std::decay_t<decltype(node)>;
          if constexpr (std::is_same_v<T, Select>) {
            self(*node.operand, self);
          } else if constexpr (std::is_same_v<T, Call>) {
            if (node.target) self(*node.target, self);
            for (const auto& arg : node.args) self(arg, self);
          } else if constexpr (std::is_same_v<T, List>) {
            for (const auto& element : node.elements) self(element.value, self);
          } else if constexpr (std::is_same_v<T, Map>) {
            for (const auto& entry : node.entries) {
              self(entry.key, self);
              self(entry.value, self);
            }
          } else if constexpr (std::is_same_v<T, Message>) {
            const auto names = candidate_names(node.type_name, container);
            const bool known = std::any_of(names.begin(), names.end(), [&](const auto& name) {
              return is_well_known_type(name) || types.find(name) != nullptr;
            });
            if (!known && names.back() == "google.protobuf.Any") found = kAnyLiterals;
            if (!known && !found)
              found = "message type '" + node.type_name + "' is not in the schema";
            for (const auto& field : node.fields) self(field.value, self);
          }
        },
        e.node);
  };
  visit(expr, visit);
  return found;
}

struct Outcome {
  enum Kind { kPassed, kFailed, kSkipped } kind;
  std::string detail;  // why it failed, or why it was skipped
};

std::string shown(const Value& v) {
  return std::string(v.type_name()) + " " +
         to_json(v).dump(-1, ' ', false, json::error_handler_t::replace);
}

Outcome run_test(const json& test, const TypeRegistry& types) {
  const auto skip = [](std::string why) { return Outcome{Outcome::kSkipped, std::move(why)}; };
  const auto failed = [](std::string why) { return Outcome{Outcome::kFailed, std::move(why)}; };
  if (test.value("checkOnly", false)) return skip("check-only test: this CEL has no type checker");
  if (test.value("disableMacros", false)) return skip("macros cannot be turned off in this CEL");
  if (test.contains("unknown") || test.contains("anyUnknowns")) {
    return skip("unknown values: this CEL does no partial evaluation");
  }
  if (test.contains("typedResult"))
    return skip("typed result: this CEL has no type checker to type it");
  const std::string source = test.at("expr").get<std::string>();
  auto tree = parse(source);
  if (!tree) return failed("syntax error: " + describe(tree.error(), source));
  const std::string container = test.value("container", "");
  if (auto why = unbuildable_message(*tree, types, container)) return skip(*why);
  Activation activation;
  const json bindings = test.value("bindings", json::object());
  for (const auto& [name, binding] : bindings.items()) {
    if (!binding.contains("value")) return skip("binding '" + name + "' is not a value");
    auto value = from_proto_value(binding["value"], types);
    if (!value) return skip(value.error());
    activation.bind(name, std::move(*value));
  }
  EvalOptions options;
  options.load_time_zone = load_zone;
  options.types = types.shared_from_this();
  options.container = container;
  auto result = evaluate(*tree, activation, options);
  // What ships is the compiled program: it must agree with the tree walk on every test.
  const auto compiled = Program(std::move(*tree)).evaluate(activation, options);
  if (result.has_value() != compiled.has_value() || (result && !same(*result, *compiled)) ||
      (!result && result.error().message != compiled.error().message)) {
    return failed("the compiled program disagrees with the tree walk: " +
                  (compiled ? shown(*compiled) : "error: " + compiled.error().message));
  }
  if (test.contains("evalError") || test.contains("anyEvalErrors")) {
    if (result) return failed("expected an error, got " + shown(*result));
    return Outcome{Outcome::kPassed, ""};
  }
  // A test without a result matcher expects true (cel-spec's simple.proto).
  auto expected =
      test.contains("value") ? from_proto_value(test["value"], types) : Converted(Value(true));
  if (!expected) return skip(expected.error());
  if (!result)
    return failed("expected " + shown(*expected) + ", got error: " + result.error().message);
  if (!same(*result, *expected)) {
    return failed("expected " + shown(*expected) + ", got " + shown(*result));
  }
  return Outcome{Outcome::kPassed, ""};
}

int run(const std::string& path, bool verbose) {
  auto text = read_file(path);
  if (!text) {
    std::fprintf(stderr, "cel_conformance: cannot read %s\n", path.c_str());
    return 2;
  }
  const json tests = json::parse(*text, nullptr, false);
  if (tests.is_discarded() || !tests.contains("sections")) {
    std::fprintf(stderr, "cel_conformance: %s is not what export.mjs writes\n", path.c_str());
    return 2;
  }
  auto types = TypeRegistry::from_json(tests.value("types", json::array()));
  if (!types) {
    std::fprintf(stderr, "cel_conformance: bad schema in %s: %s\n", path.c_str(),
                 types.error().c_str());
    return 2;
  }
  struct Tally {
    std::string section;
    int passed = 0, failed = 0, skipped = 0;
  };
  std::vector<Tally> tallies;
  std::map<std::string, int> skip_reasons;
  Tally total{"total"};
  for (const json& section : tests["sections"]) {
    Tally tally{section.at("name").get<std::string>()};
    for (const json& test : section.at("tests")) {
      const Outcome outcome = run_test(test, **types);
      const std::string name = tally.section + "/" + test.at("name").get<std::string>();
      const std::string expr = test.at("expr").get<std::string>();
      if (outcome.kind == Outcome::kPassed) ++tally.passed;
      if (outcome.kind == Outcome::kFailed) {
        ++tally.failed;
        if (verbose) {
          std::printf("FAIL %s: %s\n     %s\n", name.c_str(), expr.c_str(), outcome.detail.c_str());
        }
      }
      if (outcome.kind == Outcome::kSkipped) {
        ++tally.skipped;
        ++skip_reasons[outcome.detail];
        if (verbose)
          std::printf("SKIP %s: %s\n     %s\n", name.c_str(), expr.c_str(), outcome.detail.c_str());
      }
    }
    total.passed += tally.passed;
    total.failed += tally.failed;
    total.skipped += tally.skipped;
    tallies.push_back(tally);
  }
  tallies.push_back(total);
  std::printf("\ncel-spec conformance (@bufbuild/cel-spec), %zu sections\n", tallies.size() - 1);
  std::printf("%-14s %7s %7s %8s\n", "section", "passed", "failed", "skipped");
  for (const Tally& t : tallies) {
    std::printf("%-14s %7d %7d %8d\n", t.section.c_str(), t.passed, t.failed, t.skipped);
  }
  const int count = total.passed + total.failed + total.skipped;
  const double rate = count == 0 ? 0 : 100.0 * total.passed / count;
  std::printf("passed %.1f%% of %d (skipped count as not passed; threshold %.1f%%)\n", rate, count,
              kPassRateMin);
  if (!skip_reasons.empty()) std::printf("skipped, by reason:\n");
  for (const auto& [reason, n] : skip_reasons) std::printf("%6d  %s\n", n, reason.c_str());
  if (rate < kPassRateMin) {
    std::printf("FAILED: pass rate %.1f%% is below %.1f%%\n", rate, kPassRateMin);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace reliant::cel

int main(int argc, char** argv) {
  std::string path;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--verbose") {
      verbose = true;
    } else if (path.empty() && arg.substr(0, 2) != "--") {
      path = arg;
    } else {
      path.clear();
      break;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: cel_conformance TESTS.json [--verbose]\n");
    return 2;
  }
  return reliant::cel::run(path, verbose);
}
