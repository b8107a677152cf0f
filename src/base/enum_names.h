// The names of an enum's values, for the boundaries where the values are text: stored rows,
// JSON, the wire's strings and logs. One table per enum, read both ways.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/assert.h"

namespace reliant {

template <typename Enum>
struct EnumName {
  Enum value;
  std::string_view name;
};

template <typename Enum, std::size_t N>
using EnumNames = std::array<EnumName<Enum>, N>;

// Every value of the enum has a name in its table: a value without one is a bug.
template <typename Enum, std::size_t N>
constexpr std::string_view name_of(const EnumNames<Enum, N>& names, Enum value) {
  for (const auto& entry : names) {
    if (entry.value == value) return entry.name;
  }
  RELIANT_ASSERT_MSG(false, "an enum value without a name");
  return {};
}

// Text from outside (a row, a request) may name no value: nullopt.
template <typename Enum, std::size_t N>
constexpr std::optional<Enum> value_named(const EnumNames<Enum, N>& names, std::string_view name) {
  for (const auto& entry : names) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

// JSON holds an enum by its name, never by its number: an enum with a names table declares
// RELIANT_JSON_BY_NAME(Enum, table) next to it (nlohmann finds these by argument-dependent lookup
// and prefers them to its own conversion, which writes the number).
#define RELIANT_JSON_BY_NAME(Enum, names)                 \
  template <typename BasicJson>                           \
  void to_json(BasicJson& json, Enum value) {             \
    json = std::string(::reliant::name_of(names, value)); \
  }

}  // namespace reliant
