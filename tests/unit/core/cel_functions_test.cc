// CEL's named functions: the strings extension, matches() on RE2, timestamps and durations with
// their accessors in time zones, the well-known wrapper types, optionals' optMap/optFlatMap/or,
// and Reliant's extensions (first, last, join, parseJson, toJson, coalesce, getOrDefault, spawn,
// parseDuration), each with its errors and its cost.
#include <gtest/gtest.h>

#include <string>

#include "core/cel/evaluator.h"
#include "core/cel/parser.h"
#include "unit/core/cel_run.h"

namespace reliant::cel {
namespace {

EvalOptions budget(std::int64_t steps) {
  EvalOptions options;
  options.cost_max = steps;
  return options;
}

TEST(CelFunctions, StringExtensionCountsCodePoints) {
  EXPECT_EQ(run("'héllo'.charAt(1) + 'héllo'.charAt(5)"), "\"é\"");
  EXPECT_EQ(run("'héllo'.charAt(6)"), "error: index out of range: 6");
  EXPECT_EQ(run("'héllo'.indexOf('l') + 'héllo'.lastIndexOf('l')"), "5");
  EXPECT_EQ(
      run("['héllo'.indexOf('l', 3), 'héllo'.lastIndexOf('l', 2), 'héllo'.lastIndexOf('l', 1)]"),
      "[3,2,-1]");
  EXPECT_EQ(run("'abc'.indexOf('z')"), "-1");
  EXPECT_EQ(run("'abc'.indexOf('', 3)"), "3");
  EXPECT_EQ(run("'abc'.indexOf('a', 4)"), "error: index out of range: 4");
  EXPECT_EQ(run("'MiXed Ünïcode'.lowerAscii() + '|' + 'MiXed'.upperAscii()"),
            "\"mixed Ünïcode|MIXED\"");
  EXPECT_EQ(run("'héllo'.substring(1, 3) + '|' + 'héllo'.substring(4)"), "\"él|o\"");
  EXPECT_EQ(run("'abc'.substring(2, 1)"), "error: invalid substring range: start 2, end 1");
  EXPECT_EQ(run("'abc'.substring(0, 4)"), "error: index out of range: 4");
  EXPECT_EQ(run("' \\t\\u00a0 text \\u3000\\n'.trim()"), "\"text\"");
  EXPECT_EQ(run("'abc'.trim(1)"), "error: no such overload: trim(string, int)");
}

TEST(CelFunctions, ReplaceAndSplitAsGoDoes) {
  EXPECT_EQ(run("'a.b.c'.replace('.', '/')"), "\"a/b/c\"");
  EXPECT_EQ(run("'a.b.c'.replace('.', '/', 1)"), "\"a/b.c\"");
  EXPECT_EQ(run("'a.b.c'.replace('.', '/', 0)"), "\"a.b.c\"");
  EXPECT_EQ(run("'ab'.replace('', '-')"), "\"-a-b-\"");
  EXPECT_EQ(run("'a,b,,c'.split(',')"), "[\"a\",\"b\",\"\",\"c\"]");
  EXPECT_EQ(run("'a,b,c'.split(',', 2)"), "[\"a\",\"b,c\"]");
  EXPECT_EQ(run("'a,b,c'.split(',', 0)"), "[]");
  EXPECT_EQ(run("'a,b,'.split(',')"), "[\"a\",\"b\",\"\"]");
  EXPECT_EQ(run("''.split(',')"), "[\"\"]");
  EXPECT_EQ(run("'hé!'.split('')"), "[\"h\",\"é\",\"!\"]");
  EXPECT_EQ(run("''.split('')"), "[]");
  EXPECT_EQ(run("'a b c'.split(' ').join('+')"), "\"a+b+c\"");
}

TEST(CelFunctions, MatchesOnRe2) {
  EXPECT_EQ(run("'hubba'.matches('ubb') && matches('grey', '^gr(a|e)y$')"), "true");
  EXPECT_EQ(run("'mañana'.matches('^ma.ana$')"), "true") << "a dot is one code point";
  EXPECT_EQ(run("'abc'.matches('^b')"), "false");
  EXPECT_EQ(run("'x'.matches('(')").substr(0, 34), "error: invalid regular expression:");
  // Backreferences are not RE2: an error value, not a crash or a backtracking regex.
  EXPECT_EQ(run("'aa'.matches('(a)\\\\1')").substr(0, 34), "error: invalid regular expression:");
  EXPECT_EQ(run("matches(1, '1')"), "error: no such overload: matches(int, string)");
  EXPECT_EQ(run("'x'.matches('(') || true"), "true") << "an error value, absorbed as any other";
}

TEST(CelFunctions, ParsesAndPrintsTimestampsAndDurations) {
  EXPECT_EQ(run("timestamp('2009-02-13T23:31:30Z')"), "\"2009-02-13T23:31:30Z\"");
  EXPECT_EQ(run("int(timestamp('2009-02-13T23:31:30Z'))"), "1234567890");
  EXPECT_EQ(run("timestamp('2009-02-13T15:31:30.5-08:00') == timestamp(1234567890) + "
                "duration('500ms')"),
            "true");
  EXPECT_EQ(run("string(timestamp(0))"), "\"1970-01-01T00:00:00Z\"");
  EXPECT_EQ(run("timestamp('2009-02-30T00:00:00Z')").substr(0, 24), "error: invalid timestamp");
  EXPECT_EQ(run("timestamp('2009-02-13 23:31:30Z')").substr(0, 24), "error: invalid timestamp");
  EXPECT_EQ(run("timestamp('0000-12-31T23:59:59Z')"), "error: timestamp out of range");
  EXPECT_EQ(run("timestamp('0001-01-01T00:30:00+01:00')"), "error: timestamp out of range");
  EXPECT_EQ(run("timestamp(253402300800)"), "error: timestamp out of range");
  EXPECT_EQ(run("duration('1h30m') == duration('5400s')"), "true");
  EXPECT_EQ(run("string(duration('-1.5s')) + ' ' + string(duration('1ms')) + ' ' + "
                "string(duration('2us'))"),
            "\"-1.500s 0.001s 0.000002s\"");
  EXPECT_EQ(run("duration('1.5h') == duration('90m') && duration('0') == duration('0s')"), "true");
  EXPECT_EQ(run("duration('1d')").substr(0, 23), "error: invalid duration");
  EXPECT_EQ(run("duration('')").substr(0, 23), "error: invalid duration");
  EXPECT_EQ(run("duration('1.h')"), "\"3600s\"");
  EXPECT_EQ(run("duration('.s')").substr(0, 23), "error: invalid duration");
  EXPECT_EQ(run("duration('2562048h')"), "error: duration out of range");
  EXPECT_EQ(run("duration('-9223372036.854775808s')"), "\"-9223372036.854775808s\"");
  EXPECT_EQ(run("type(timestamp(0)) == google.protobuf.Timestamp && "
                "type(duration('1s')) == google.protobuf.Duration"),
            "true");
}

TEST(CelFunctions, TimestampArithmeticStaysInRange) {
  EXPECT_EQ(run("timestamp('2009-02-13T23:00:00Z') + duration('1h') - duration('30m')"),
            "\"2009-02-13T23:30:00Z\"");
  EXPECT_EQ(run("duration('1s') + timestamp(0)"), "\"1970-01-01T00:00:01Z\"");
  EXPECT_EQ(run("timestamp('2009-02-13T23:31:00Z') - timestamp('2009-02-13T23:29:00.5Z')"),
            "\"119.500s\"");
  EXPECT_EQ(run("timestamp(0) - duration('0.000000001s')"), "\"1969-12-31T23:59:59.999999999Z\"");
  EXPECT_EQ(run("duration('1s') - duration('1.5s')"), "\"-0.500s\"");
  EXPECT_EQ(run("timestamp('9999-12-31T23:59:59.999999999Z') + duration('1ns')"),
            "error: timestamp out of range");
  EXPECT_EQ(run("duration('2000000h') + duration('2000000h')"), "error: duration out of range");
  EXPECT_EQ(run("timestamp('9999-01-01T00:00:00Z') - timestamp('0001-01-01T00:00:00Z')"),
            "error: duration out of range");
  EXPECT_EQ(run("timestamp(0) + timestamp(0)"),
            "error: no such overload: _+_(google.protobuf.Timestamp, google.protobuf.Timestamp)");
  EXPECT_EQ(run("timestamp(1) > timestamp(0) && duration('1m') < duration('1h')"), "true");
}

TEST(CelFunctions, TimestampAccessorsInUtcAndFixedOffsets) {
  const std::string t = "timestamp('2009-02-13T23:31:30.123456789Z')";
  EXPECT_EQ(run("[" + t + ".getFullYear(), " + t + ".getMonth(), " + t + ".getDate(), " + t +
                ".getDayOfMonth(), " + t + ".getDayOfYear(), " + t + ".getDayOfWeek(), " + t +
                ".getHours(), " + t + ".getMinutes(), " + t + ".getSeconds(), " + t +
                ".getMilliseconds()]"),
            "[2009,1,13,12,43,5,23,31,30,123]");
  EXPECT_EQ(run(t + ".getHours('+05:30') == 5 && " + t + ".getMinutes('+05:30') == 1 && " + t +
                ".getDate('+05:30') == 14"),
            "true");
  EXPECT_EQ(run(t + ".getHours('02:00') == 1 && " + t + ".getDayOfWeek('-23:00') == 5"), "true");
  EXPECT_EQ(run("timestamp('2008-12-31T23:00:00Z').getFullYear('+01:00')"), "2009");
  EXPECT_EQ(run(t + ".getHours('UTC')"), "23");
  EXPECT_EQ(run(t + ".getHours('+24:00')"), "error: unknown time zone '+24:00'");
  // IANA names need a loader (reading the zone database is I/O): without one they are unknown.
  EXPECT_EQ(run(t + ".getHours('America/Los_Angeles')"),
            "error: unknown time zone 'America/Los_Angeles'");
  EXPECT_EQ(run("duration('3730.5s').getHours() + duration('3730.5s').getMinutes()"), "63");
  EXPECT_EQ(run("duration('3730.5s').getSeconds() + duration('3730.5s').getMilliseconds()"),
            "4230");
  EXPECT_EQ(run("duration('-90s').getMinutes()"), "-1");
  EXPECT_EQ(run("duration('1s').getFullYear()"),
            "error: no such overload: getFullYear(google.protobuf.Duration)");
}

TEST(CelFunctions, TimestampAccessorsAskTheLoaderForIanaZones) {
  // A zone with no transitions and the rule "always UTC-3": enough to see the loader used.
  std::string tzif = std::string("TZif2") + std::string(15, '\0');
  for (int i = 0; i < 6; ++i) tzif += std::string(4, '\0');  // an empty version 1 block
  tzif += std::string("TZif2") + std::string(15, '\0');
  const unsigned char counts[24] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 4};
  tzif += std::string(reinterpret_cast<const char*>(counts), 24);
  const unsigned char type[6] = {0xFF, 0xFF, 0xD5, 0xD0, 0, 0};  // -10800 s, standard time
  tzif += std::string(reinterpret_cast<const char*>(type), 6) + std::string("-03", 4);
  tzif += "\n<-03>3\n";
  std::vector<std::string> asked;
  EvalOptions options;
  options.load_time_zone = [&](std::string_view name) -> std::optional<std::string> {
    asked.emplace_back(name);
    if (name == "America/Sao_Paulo") return tzif;
    return std::nullopt;
  };
  const std::string t = "timestamp('2009-02-13T23:31:30Z')";
  EXPECT_EQ(run(t + ".getHours('America/Sao_Paulo')", nlohmann::json::object(), options), "20");
  EXPECT_EQ(run(t + ".getHours('Mars/Olympus')", nlohmann::json::object(), options),
            "error: unknown time zone 'Mars/Olympus'");
  // Never a path that leaves the zone directory.
  EXPECT_EQ(run(t + ".getHours('../../etc/passwd')", nlohmann::json::object(), options),
            "error: unknown time zone '../../etc/passwd'");
  // Each name twice: run() evaluates by the tree walk and by the compiled program.
  EXPECT_EQ(asked, (std::vector<std::string>{"America/Sao_Paulo", "America/Sao_Paulo",
                                             "Mars/Olympus", "Mars/Olympus"}));
}

TEST(CelFunctions, WellKnownTypesStandForTheirValues) {
  EXPECT_EQ(run("google.protobuf.Int32Value{value: 123} == 123 && google.protobuf.BoolValue{} == "
                "false && google.protobuf.StringValue{value: 'x'} == 'x'"),
            "true");
  EXPECT_EQ(run("google.protobuf.FloatValue{value: 0.1} == 0.1"), "false")
      << "rounded to float precision";
  EXPECT_EQ(run("google.protobuf.Value{} == null && google.protobuf.ListValue{} == []"), "true");
  EXPECT_EQ(run("google.protobuf.Timestamp{seconds: 1234567890}"), "\"2009-02-13T23:31:30Z\"");
  EXPECT_EQ(run("google.protobuf.Duration{seconds: 2, nanos: 500000000}"), "\"2.500s\"");
  EXPECT_EQ(run("google.protobuf.Int32Value{value: 2147483648}"), "error: int32 out of range");
  EXPECT_EQ(run("google.protobuf.Int64Value{value: 'x'}"),
            "error: field 'value' of google.protobuf.Int64Value cannot hold a value of type "
            "'string'");
  EXPECT_EQ(run("google.protobuf.BoolValue{other: true}"),
            "error: no such field 'other' in google.protobuf.BoolValue");
  EXPECT_EQ(run("my.Message{a: 1}"), "error: unknown type 'my.Message'");
}

TEST(CelFunctions, OptionalsMapAndChain) {
  EXPECT_EQ(run("optional.of(2).optMap(x, x * 10).value()"), "20");
  EXPECT_EQ(run("optional.none().optMap(x, x * 10).hasValue()"), "false");
  EXPECT_EQ(run("optional.of({'a': 1}).optFlatMap(m, m.?a).value()"), "1");
  EXPECT_EQ(run("optional.of(1).optFlatMap(x, x)"), "error: optFlatMap() must map to an optional");
  EXPECT_EQ(run("optional.none().or(optional.of(3)).value()"), "3");
  EXPECT_EQ(run("optional.of({'a': {}}).a.b.orValue('none')"), "\"none\"");
  EXPECT_EQ(run("has({}.?a.b) || has(optional.of({'b': 1}).b)"), "true");
  EXPECT_EQ(run("type(optional.none()) == optional_type"), "true");
}

TEST(CelFunctions, ReliantExtensions) {
  const auto vars = nlohmann::json::parse(R"({"files": ["a.cc", "b.h"], "none": [],
      "settings": {"mode": "fast"}, "missing": null})");
  EXPECT_EQ(run("files.join(', ') + '|' + files.join()", vars), "\"a.cc, b.h|a.ccb.h\"");
  EXPECT_EQ(run("[1, 'a'].join()"), "error: join: list element of type 'int' is not a string");
  EXPECT_EQ(run("files.first().value() + files.last().value()", vars), "\"a.ccb.h\"");
  EXPECT_EQ(run("none.first().hasValue() || none.last().orValue('empty') != 'empty'", vars),
            "false");
  EXPECT_EQ(run("parseJson('{\"a\": [1, 2.5, null, true]}').a[1]"), "2.5");
  EXPECT_EQ(run("parseJson('{bad')").substr(0, 18), "error: parseJson: ");
  EXPECT_EQ(run("parseJson(1)"), "error: no such overload: parseJson(int)");
  EXPECT_EQ(run("toJson({'k': [1, 'two', null, 2.5, b'hi', duration('1s')]})"),
            "\"{\\\"k\\\":[1,\\\"two\\\",null,2.5,\\\"aGk=\\\",\\\"1s\\\"]}\"");
  EXPECT_EQ(run("parseJson(toJson(settings)) == settings", vars), "true");
  EXPECT_EQ(run("coalesce(missing, null, settings.mode, 1 / 0)", vars), "\"fast\"")
      << "stops at the first non-null, so the error after it is never evaluated";
  EXPECT_EQ(run("coalesce(null, null)"), "null");
  EXPECT_EQ(run("coalesce(1 / 0, 1)"), "error: division by zero");
  EXPECT_EQ(run("getOrDefault(settings, 'mode', 'slow') + settings.getOrDefault('x', '!')", vars),
            "\"fast!\"");
  EXPECT_EQ(run("getOrDefault(files, 0, 'x')", vars),
            "error: no such overload: getOrDefault(list, int, string)");
  EXPECT_EQ(run("spawn('builtin://agent', ['general', 'researcher'])"),
            "\"spawn:builtin://agent(general,researcher)\"");
  EXPECT_EQ(run("['view'] + [spawn('builtin://agent', [])]"), "[\"view\",\"\"]");
  EXPECT_EQ(run("spawn('builtin://agent', [1])"), "error: spawn: a preset is named by a string");
  EXPECT_EQ(run("spawn('builtin://agent', 'general')"),
            "error: no such overload: spawn(string, string)");
  EXPECT_EQ(run("parseDuration('1h30m') == duration('90m') && parseDuration('10m') < "
                "parseDuration('1.5h') && string(parseDuration('45s')) == '45s'"),
            "true");
  EXPECT_EQ(run("parseDuration('soon')").substr(0, 23), "error: invalid duration");
  EXPECT_EQ(run("files + ['c.md']", vars), "[\"a.cc\",\"b.h\",\"c.md\"]");
}

TEST(CelFunctions, ChargeWorkBySize) {
  // Building a big string through replace(), then splitting or matching it, is charged by its
  // bytes, so a small budget stops it before the work is done.
  std::string json_list = "[1";
  for (int i = 0; i < 100'000; ++i) json_list += ",1";
  const nlohmann::json vars = {{"s", std::string(100'000, 'a')}, {"j", json_list + "]"}};
  EXPECT_EQ(run("s.replace('a', 'bb').size()", vars, budget(1'000)),
            "error: evaluation cost budget exceeded");
  EXPECT_EQ(run("s.split('').size()", vars, budget(10'000)),
            "error: evaluation cost budget exceeded");
  EXPECT_EQ(run("s.matches('a*b')", vars, budget(1'000)), "error: evaluation cost budget exceeded");
  EXPECT_EQ(run("parseJson(j).size()", vars, budget(50'000)),
            "error: evaluation cost budget exceeded");
  EXPECT_EQ(run("parseJson(j).size()", vars, budget(150'000)), "100001");
  EXPECT_EQ(run("s.split('').join().size()", vars, budget(1'000'000)), "100000");
  // Shared lists: each map() doubles what toJson would print, at the cost of a few steps.
  std::string doubling = "[[1]]";
  for (int i = 0; i < 40; ++i) doubling += ".map(x, [x, x])";
  EXPECT_EQ(run("size(" + doubling + ")"), "1");
  EXPECT_EQ(run("toJson(" + doubling + ")"), "error: evaluation cost budget exceeded");
  EXPECT_EQ(run("s.matches('^a+$')", vars), "true");
}

}  // namespace
}  // namespace reliant::cel
