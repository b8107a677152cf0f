// CEL's protobuf messages: the schema a registry reads, construction and its errors, defaults of
// unset fields, has() as protobuf's presence, equality, optional fields and selection, and type
// names resolved in a container.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/cel/evaluator.h"
#include "core/cel/messages.h"
#include "core/cel/parser.h"
#include "unit/core/cel_run.h"

namespace reliant::cel {
namespace {

constexpr const char* kSchema = R"([
  {"name": "test.v3.Msg", "syntax": "proto3", "fields": [
    {"name": "i32", "scalar": "int32"},
    {"name": "i64", "scalar": "sint64"},
    {"name": "u32", "scalar": "fixed32"},
    {"name": "f", "scalar": "float"},
    {"name": "d", "scalar": "double"},
    {"name": "s", "scalar": "string"},
    {"name": "b", "scalar": "bytes"},
    {"name": "flag", "scalar": "bool", "presence": "explicit"},
    {"name": "kind", "enum": "test.v3.Msg.Kind"},
    {"name": "nothing", "enum": "google.protobuf.NullValue"},
    {"name": "child", "message": "test.v3.Msg"},
    {"name": "other", "message": "test.Other"},
    {"name": "wrapped", "message": "google.protobuf.Int32Value"},
    {"name": "any", "message": "google.protobuf.Any"},
    {"name": "json", "message": "google.protobuf.Value"},
    {"name": "fields", "message": "google.protobuf.Struct"},
    {"name": "when", "message": "google.protobuf.Timestamp"},
    {"name": "names", "scalar": "string", "repeated": true},
    {"name": "counts", "scalar": "int32", "map_key": "string"},
    {"name": "on", "scalar": "bool", "oneof": "choice"},
    {"name": "label", "scalar": "string", "oneof": "choice"}
  ]},
  {"name": "test.v2.Msg", "syntax": "proto2", "fields": [
    {"name": "i32", "scalar": "int32", "default": -5},
    {"name": "u64", "scalar": "uint64", "default": "18446744073709551615"},
    {"name": "s", "scalar": "string"}
  ]},
  {"name": "test.Other", "syntax": "proto3", "fields": []}
])";

std::shared_ptr<const TypeRegistry> registry() {
  auto types = TypeRegistry::from_json(nlohmann::json::parse(kSchema));
  EXPECT_TRUE(types.has_value()) << types.error();
  return types ? *types : nullptr;
}

// `source` evaluated with the schema's types, names resolved in `container`.
std::string eval(const std::string& source, const std::string& container = "test.v3") {
  EvalOptions options;
  options.types = registry();
  options.container = container;
  return run(source, nlohmann::json::object(), options);
}

TEST(CelMessages, BuildsMessagesAndReadsTheirFields) {
  EXPECT_EQ(eval("Msg{i32: -7, i64: 8, u32: 9u, d: 1.5, s: 'x', b: b'y', flag: true}"),
            R"({"b":"eQ==","d":1.5,"flag":true,"i32":-7,"i64":8,"s":"x","u32":9})");
  EXPECT_EQ(eval("Msg{i32: -7}.i32 == -7 && Msg{s: 'x'}.s == 'x' && Msg{u32: 9u}.u32 == 9u"),
            "true");
  EXPECT_EQ(eval("Msg{f: 0.1}.f == 0.1"), "false");       // stored as a float
  EXPECT_EQ(eval("Msg{f: -1e300}.f"), R"("-Infinity")");  // rounded as IEEE 754 rounds
  EXPECT_EQ(eval("Msg{f: 3.4028235e38}.f == 3.4028234663852886e38"), "true");
  EXPECT_EQ(eval("Msg{child: Msg{child: Msg{i32: 3}}}.child.child.i32"), "3");
  EXPECT_EQ(
      eval("Msg{names: ['a', 'b'], counts: {'k': 2}}.counts.k + size(Msg{names: ['a']}.names)"),
      "3");
  EXPECT_EQ(eval("Msg{wrapped: 5}.wrapped"), "5");
  EXPECT_EQ(eval("Msg{any: [1, 'two']}.any"), R"([1,"two"])");
  EXPECT_EQ(eval("Msg{json: 2}.json == 2.0 && Msg{json: {'a': 1}}.json == {'a': 1.0}"), "true");
  EXPECT_EQ(eval("Msg{json: 9007199254740993}.json"), R"("9007199254740993")");  // beyond 2^53
  EXPECT_EQ(eval("Msg{when: timestamp('2024-01-01T00:00:00Z')}.when"), R"("2024-01-01T00:00:00Z")");
  EXPECT_EQ(eval("Msg{kind: 2}.kind"), "2");
}

TEST(CelMessages, RefusesUnknownFieldsWrongTypesAndOutOfRangeValues) {
  EXPECT_EQ(eval("Msg{nope: 1}"), "error: no such field 'nope' in test.v3.Msg");
  EXPECT_EQ(eval("Msg{}.nope"), "error: no such field 'nope' in test.v3.Msg");
  EXPECT_EQ(eval("has(Msg{}.nope)"), "error: no such field 'nope' in test.v3.Msg");
  EXPECT_EQ(eval("Msg{i32: 2147483648}"), "error: field 'i32' of test.v3.Msg: int32 out of range");
  EXPECT_EQ(eval("Msg{u32: 4294967296u}"),
            "error: field 'u32' of test.v3.Msg: uint32 out of range");
  EXPECT_EQ(eval("Msg{kind: -2147483649}"),
            "error: field 'kind' of test.v3.Msg: int32 out of range");
  EXPECT_EQ(eval("Msg{s: 1}"),
            "error: field 's' of test.v3.Msg: cannot hold a value of type 'int'");
  EXPECT_EQ(eval("Msg{i64: 1u}"),
            "error: field 'i64' of test.v3.Msg: cannot hold a value of type 'uint'");
  EXPECT_EQ(eval("Msg{names: ['a', 1]}"),
            "error: field 'names' of test.v3.Msg: cannot hold a value of type 'int'");
  EXPECT_EQ(eval("Msg{counts: {'k': 2147483648}}"),
            "error: field 'counts' of test.v3.Msg: int32 out of range");
  EXPECT_EQ(eval("Msg{counts: {1: 1}}"),
            "error: field 'counts' of test.v3.Msg: key cannot hold a value of type 'int'");
  EXPECT_EQ(eval("Msg{child: Other{}}"),
            "error: field 'child' of test.v3.Msg: cannot hold a value of type 'test.Other'");
  EXPECT_EQ(eval("Msg{fields: {1: 'one'}}"),
            "error: field 'fields' of test.v3.Msg: bad key type 'int'");
  EXPECT_EQ(eval("Msg{fields: null}"),
            "error: field 'fields' of test.v3.Msg: cannot hold a value of type 'null_type'");
  EXPECT_EQ(eval("Msg{wrapped: 2147483648}"),
            "error: field 'wrapped' of test.v3.Msg: int32 out of range");
}

TEST(CelMessages, UnsetFieldsReadAsTheirDefaults) {
  EXPECT_EQ(eval("Msg{}.i32 == 0 && Msg{}.u32 == 0u && Msg{}.d == 0.0 && Msg{}.flag == false"),
            "true");
  EXPECT_EQ(eval("Msg{}.s == '' && Msg{}.b == b'' && Msg{}.names == [] && Msg{}.counts == {}"),
            "true");
  EXPECT_EQ(eval("Msg{}.wrapped == null && Msg{}.any == null && Msg{}.json == null"), "true");
  EXPECT_EQ(eval("Msg{}.nothing == null && Msg{}.fields == {} && Msg{}.kind == 0"), "true");
  EXPECT_EQ(eval("Msg{}.when == timestamp(0)"), "true");
  // An unset message field reads as an empty message of its type, however deep.
  EXPECT_EQ(eval("Msg{}.child.child.child.i32"), "0");
  EXPECT_EQ(eval("type(Msg{}.child) == test.v3.Msg && type(Msg{}.other) == test.Other"), "true");
  // proto2's [default = …].
  EXPECT_EQ(
      eval("Msg{}.i32 == -5 && Msg{}.u64 == 18446744073709551615u && Msg{}.s == ''", "test.v2"),
      "true");
}

TEST(CelMessages, HasIsProtobufPresence) {
  // proto3 scalars are set only when not zero; `presence: explicit` (proto3 optional) always.
  EXPECT_EQ(eval("has(Msg{i32: 1}.i32) && !has(Msg{i32: 0}.i32) && !has(Msg{}.i32)"), "true");
  EXPECT_EQ(eval("has(Msg{flag: false}.flag) && !has(Msg{}.flag)"), "true");
  // proto2 fields are set when assigned, zero or not.
  EXPECT_EQ(eval("has(Msg{s: ''}.s) && !has(Msg{}.s) && !has(Msg{}.i32)", "test.v2"), "true");
  EXPECT_EQ(eval("has(Msg{names: ['a']}.names) && !has(Msg{names: []}.names)"), "true");
  EXPECT_EQ(eval("has(Msg{child: Msg{}}.child) && !has(Msg{}.child)"), "true");
  // A null leaves a field of message type unset, but sets a google.protobuf.Value to null.
  EXPECT_EQ(eval("!has(Msg{wrapped: null}.wrapped) && !has(Msg{child: null}.child)"), "true");
  EXPECT_EQ(eval("has(Msg{json: null}.json) && Msg{json: null}.json == null"), "true");
  // Setting one member of a oneof clears the others.
  EXPECT_EQ(eval("Msg{on: true, label: ''}"), R"({"label":""})");
  EXPECT_EQ(eval("has(Msg{on: false}.on)"), "true");
}

TEST(CelMessages, EqualityComparesTypeAndSetFields) {
  EXPECT_EQ(eval("Msg{i32: 1, s: 'x'} == Msg{s: 'x', i32: 1}"), "true");
  EXPECT_EQ(eval("Msg{i32: 1} == Msg{s: 'x'}"), "false");
  EXPECT_EQ(eval("Msg{i32: 1} != Msg{i32: 2}"), "true");
  EXPECT_EQ(eval("Msg{d: double('NaN')} == Msg{d: double('NaN')}"), "false");
  EXPECT_EQ(eval("Msg{child: Msg{names: ['a']}} == Msg{child: Msg{names: ['a']}}"), "true");
  EXPECT_EQ(eval("dyn(Msg{}) == dyn(Other{})"), "false");
  EXPECT_EQ(eval("dyn(Msg{}) == null || dyn(Msg{}) == {}"), "false");
  // proto3: a zero scalar is unset, so equals the empty message; proto2: set differs from unset.
  EXPECT_EQ(eval("Msg{i32: 0} == Msg{}"), "true");
  EXPECT_EQ(eval("Msg{s: ''} == Msg{}", "test.v2"), "false");
  EXPECT_EQ(eval("[Msg{i32: 1}] == [Msg{i32: 1}] && Msg{i32: 1} in [Msg{}, Msg{i32: 1}]"), "true");
}

TEST(CelMessages, OptionalFieldsAndOptionalSelection) {
  EXPECT_EQ(eval("has(Msg{?i32: optional.none()}.i32)"), "false");
  EXPECT_EQ(eval("Msg{?i32: optional.of(2)}.i32"), "2");
  EXPECT_EQ(eval("has(Msg{?wrapped: optional.ofNonZeroValue(0)}.wrapped)"), "false");
  EXPECT_EQ(eval("Msg{}.?names.hasValue() || Msg{}.?child.hasValue()"), "false");
  EXPECT_EQ(eval("Msg{names: ['a']}.?names.value()"), R"(["a"])");
  EXPECT_EQ(eval("optional.of(Msg{names: ['a']}).?names[0].value()"), R"("a")");
  EXPECT_EQ(eval("optional.ofNonZeroValue(Msg{}).hasValue()"), "false");
  EXPECT_EQ(eval("optional.ofNonZeroValue(Msg{i32: 1}).hasValue()"), "true");
  EXPECT_EQ(eval("Msg{}.?nope"), "error: no such field 'nope' in test.v3.Msg");
}

TEST(CelMessages, ResolvesTypeNamesInTheContainer) {
  EXPECT_EQ(candidate_names("T", "a.b"), (std::vector<std::string>{"a.b.T", "a.T", "T"}));
  EXPECT_EQ(candidate_names("x.T", "a"), (std::vector<std::string>{"a.x.T", "x.T"}));
  EXPECT_EQ(candidate_names(".a.T", "a.b"), (std::vector<std::string>{"a.T"}));
  EXPECT_EQ(candidate_names("T", ""), (std::vector<std::string>{"T"}));
  EXPECT_EQ(eval("type(Msg{})"), R"("test.v3.Msg")");
  EXPECT_EQ(eval("type(Msg{})", "test.v3.deeper.still"), R"("test.v3.Msg")");
  EXPECT_EQ(eval("type(v2.Msg{})", "test"), R"("test.v2.Msg")");
  EXPECT_EQ(eval("type(.test.v2.Msg{})"), R"("test.v2.Msg")");
  EXPECT_EQ(eval("type(test.v2.Msg{}) == test.v2.Msg && type(Msg{}) == Msg"), "true");
  EXPECT_EQ(eval("Other{}", ""), "error: unknown type 'Other'");
  EXPECT_EQ(eval("Msg{}", "test.v4"), "error: unknown type 'Msg'");
  // Well-known types resolve the same way, and a registry leaves them as they were.
  EXPECT_EQ(eval("google.protobuf.Int32Value{value: 3}"), "3");
  // Without a registry, only the well-known types exist.
  EXPECT_EQ(run("test.v3.Msg{}"), "error: unknown type 'test.v3.Msg'");
}

TEST(CelMessages, AValueKeepsItsTypesAlive) {
  auto tree = parse("Msg{i32: 4}");
  ASSERT_TRUE(tree.has_value());
  EvalResult value = tl::unexpected(EvalError{});
  {
    EvalOptions options;
    options.types = registry();
    options.container = "test.v3";
    value = evaluate(*tree, Activation(), options);
  }  // the registry's last owner outside the value is gone
  ASSERT_TRUE(value.has_value());
  const MessageValue* message = value->message();
  ASSERT_NE(message, nullptr);
  EXPECT_EQ(message->type().name, "test.v3.Msg");
  auto child = message->get("child");  // an empty message of a type found through the registry
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(child->type_name(), "test.v3.Msg");
  EXPECT_EQ(to_json(*message->get("i32")), 4);
}

TEST(CelMessages, SchemaErrorsSayWhere) {
  const auto error = [](const char* schema) {
    auto types = TypeRegistry::from_json(nlohmann::json::parse(schema));
    return types ? std::string("ok") : types.error();
  };
  EXPECT_EQ(error(R"([{"name": "a.M", "syntax": "proto3", "fields": []}])"), "ok");
  EXPECT_EQ(error(R"({"name": "a.M"})"), "a schema is a JSON array of message types");
  EXPECT_EQ(error(R"([{"name": "a.M", "syntax": "proto4", "fields": []}])"),
            "type 'a.M': \"syntax\" is \"proto2\" or \"proto3\"");
  EXPECT_EQ(error(R"([{"name": "a.M", "syntax": "proto3", "fields": []},
                     {"name": "a.M", "syntax": "proto3", "fields": []}])"),
            "type 'a.M' is defined twice");
  EXPECT_EQ(error(R"([{"name": "google.protobuf.Duration", "syntax": "proto3", "fields": []}])"),
            "type 'google.protobuf.Duration': not a name a schema can define");
  EXPECT_EQ(error(R"([{"name": "a.M", "syntax": "proto3", "fields": [
                       {"name": "x", "message": "a.Missing"}]}])"),
            "type 'a.M': field 'x': unknown message type 'a.Missing'");
  EXPECT_EQ(error(R"([{"name": "a.M", "syntax": "proto3", "fields": [
                       {"name": "x", "scalar": "int128"}]}])"),
            "type 'a.M': field 'x': unknown scalar type \"int128\"");
  EXPECT_EQ(error(R"([{"name": "a.M", "syntax": "proto3", "fields": [
                       {"name": "x", "scalar": "int32", "enum": "a.E"}]}])"),
            "type 'a.M': field 'x': exactly one of \"scalar\", \"enum\" and \"message\"");
  EXPECT_EQ(error(R"([{"name": "a.M", "syntax": "proto3", "fields": [
                       {"name": "x", "scalar": "int32", "reapeted": true}]}])"),
            "type 'a.M': field 'x': unknown key \"reapeted\"");
  EXPECT_EQ(error(R"([{"name": "a.M", "syntax": "proto3", "fields": [
                       {"name": "x", "scalar": "int32", "map_key": "double"}]}])"),
            "type 'a.M': field 'x': a map key is an integer, bool or string type");
  EXPECT_EQ(error(R"([{"name": "a.M", "syntax": "proto2", "fields": [
                       {"name": "x", "scalar": "int32", "default": 2147483648}]}])"),
            "type 'a.M': field 'x': default 2147483648: int32 out of range");
  EXPECT_EQ(error(R"([{"name": "a.M", "syntax": "proto3", "fields": [
                       {"name": "x", "scalar": "int32"}, {"name": "x", "scalar": "bool"}]}])"),
            "type 'a.M': field 'x' is defined twice");
}

}  // namespace
}  // namespace reliant::cel
