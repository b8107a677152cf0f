// CEL values: heterogeneous equality and ordering, maps keyed across numeric types, JSON both
// ways, the printed forms of timestamps and durations, and the bounds on a value kept (oversize).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "core/cel/value.h"

namespace reliant::cel {
namespace {

Value i(std::int64_t v) { return Value(v); }
Value u(std::uint64_t v) { return Value(v); }

TEST(CelValue, NumbersAreEqualByValueAcrossTypes) {
  EXPECT_EQ(i(1), u(1));
  EXPECT_EQ(i(1), Value(1.0));
  EXPECT_EQ(u(1), Value(1.0));
  EXPECT_FALSE(i(-1) == u(std::numeric_limits<std::uint64_t>::max()));
  // Integers compare exactly with each other, but with a double as a double (cel-spec): 2^63 - 1
  // rounds to 2^63.
  EXPECT_FALSE(i(std::numeric_limits<std::int64_t>::max()) == u(std::uint64_t{1} << 63));
  EXPECT_EQ(i(std::numeric_limits<std::int64_t>::max()), Value(9223372036854775808.0));
  EXPECT_FALSE(Value(std::nan("")) == Value(std::nan("")));
  EXPECT_FALSE(i(1) == Value("1"));
  EXPECT_FALSE(Value(nullptr) == Value(false));
  EXPECT_EQ(Value(nullptr), Value(nullptr));
}

TEST(CelValue, CollectionsCompareElementByElement) {
  EXPECT_EQ(Value(ValueList{i(1), Value("a")}), Value(ValueList{Value(1.0), Value("a")}));
  EXPECT_FALSE(Value(ValueList{i(1)}) == Value(ValueList{i(1), i(2)}));
  ValueMap a, b;
  ASSERT_TRUE(a.insert(Value("k"), i(1)));
  ASSERT_TRUE(a.insert(i(2), Value(true)));
  ASSERT_TRUE(b.insert(u(2), Value(true)));  // another order, and 2u for 2
  ASSERT_TRUE(b.insert(Value("k"), Value(1.0)));
  EXPECT_EQ(Value(a), Value(b));
}

TEST(CelValue, MapKeysNameOneEntryAcrossNumericTypes) {
  ValueMap map;
  ASSERT_TRUE(map.insert(i(1), Value("one")));
  EXPECT_FALSE(map.insert(u(1), Value("again"))) << "1u is the key 1";
  EXPECT_FALSE(map.insert(Value(2.0), Value("double"))) << "doubles are not map keys";
  EXPECT_FALSE(map.insert(Value(ValueList{}), Value("list")));
  ASSERT_NE(map.find(Value(1.0)), nullptr);
  EXPECT_EQ(*map.find(u(1)), Value("one"));
  EXPECT_EQ(map.find(Value(1.5)), nullptr);
  EXPECT_EQ(map.find(Value("1")), nullptr);
  ASSERT_TRUE(map.insert(u(std::numeric_limits<std::uint64_t>::max()), Value("max")));
  EXPECT_EQ(map.find(Value(18446744073709551615.0)), nullptr)
      << "the double literal rounds to 2^64, which is another number than 2^64 - 1";
  ASSERT_TRUE(map.insert(u(std::uint64_t{1} << 63), Value("2^63")));
  EXPECT_NE(map.find(Value(9223372036854775808.0)), nullptr) << "2^63 is exact as a double";
}

TEST(CelValue, OrdersWhatCelOrders) {
  EXPECT_EQ(compare(i(-1), u(0)), std::partial_ordering::less);
  EXPECT_EQ(compare(Value(2.5), i(2)), std::partial_ordering::greater);
  EXPECT_EQ(compare(Value("a"), Value("b")), std::partial_ordering::less);
  EXPECT_EQ(compare(Value("\xc3\xa9"), Value("z")), std::partial_ordering::greater);
  EXPECT_EQ(compare(Value(false), Value(true)), std::partial_ordering::less);
  EXPECT_EQ(compare(Value(Duration{1, 0}), Value(Duration{0, 999'999'999})),
            std::partial_ordering::greater);
  EXPECT_EQ(compare(Value(std::nan("")), i(1)), std::nullopt);
  EXPECT_EQ(compare(Value("1"), i(1)), std::nullopt);
  EXPECT_EQ(compare(Value(nullptr), Value(nullptr)), std::nullopt);
}

TEST(CelValue, ReadsAndPrintsJson) {
  const auto json = nlohmann::json::parse(
      R"({"n": 1, "big": 18446744073709551615, "x": 2.5, "s": "t", "l": [true, null], "m": {}})");
  const Value value = from_json(json);
  const ValueMap* map = value.map();
  ASSERT_NE(map, nullptr);
  EXPECT_TRUE(map->find(Value("n"))->is<std::int64_t>());
  EXPECT_TRUE(map->find(Value("big"))->is<std::uint64_t>());
  EXPECT_TRUE(map->find(Value("x"))->is<double>());
  EXPECT_EQ(to_json(value), json);
  EXPECT_EQ(value.type_name(), "map");

  ValueMap keyed;
  ASSERT_TRUE(keyed.insert(i(7), Value(Bytes{"hi!"})));
  EXPECT_EQ(to_json(Value(keyed)).dump(), R"({"7":"aGkh"})");
  EXPECT_EQ(to_json(Value(Bytes{"\xfb\xff"})), "+/8=");
  EXPECT_EQ(to_json(Value(std::numeric_limits<double>::infinity())), "Infinity");
  EXPECT_EQ(to_json(Value(Optional{})), nullptr);
  EXPECT_EQ(to_json(Value(Optional{std::make_shared<const Value>(i(3))})), 3);
}

TEST(CelValue, PrintsTimestampsAndDurations) {
  EXPECT_EQ(format_timestamp({0, 0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp({1795514400, 500'000'000}), "2026-11-24T10:00:00.500Z");
  EXPECT_EQ(format_timestamp({kTimestampSecondsMin, 0}), "0001-01-01T00:00:00Z");
  EXPECT_EQ(format_timestamp({kTimestampSecondsMax, 999'999'999}),
            "9999-12-31T23:59:59.999999999Z");
  EXPECT_EQ(format_timestamp({-1, 1000}), "1969-12-31T23:59:59.000001Z");
  EXPECT_EQ(format_duration({0, 0}), "0s");
  EXPECT_EQ(format_duration({1, 500'000'000}), "1.500s");
  EXPECT_EQ(format_duration({0, -1}), "-0.000000001s");
  EXPECT_EQ(format_duration({-kDurationSecondsMax, 0}), "-315576000000s");
}

// oversize() walks each shared list once: a chain of lists each holding the one before twice is
// 2^60 elements written out, found in sixty steps.
TEST(CelValue, OversizeWalksASharedListOnce) {
  Value value = ValueList{Value(std::int64_t{1})};
  for (int i = 0; i < 60; ++i) value = ValueList{value, value};
  EXPECT_EQ(oversize(value),
            "the value is too big: more than 1000000 elements (or 16-byte pieces of text) "
            "written out");
  EXPECT_EQ(oversize(value, 100, (std::uint64_t{1} << 62) - 1), std::nullopt);
  EXPECT_EQ(oversize(value, 30, (std::uint64_t{1} << 62) - 1),
            "the value nests deeper than 30 levels");
  EXPECT_EQ(oversize(Value(std::string(32 * 1000 * 1000, 'x'))),
            "the value is too big: more than 1000000 elements (or 16-byte pieces of text) "
            "written out");
  EXPECT_EQ(oversize(Value(std::string(1000, 'x'))), std::nullopt);
}

}  // namespace
}  // namespace reliant::cel
