// Typed reads of SqlRows cells, so repositories need no variant juggling.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/assert.h"
#include "runtime/store.h"

namespace reliant {

using SqlRow = std::vector<SqlValue>;

inline std::string text_at(const SqlRow& row, std::size_t i) {
  RELIANT_ASSERT(i < row.size());
  if (const auto* s = std::get_if<std::string>(&row[i])) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&row[i])) return std::to_string(*n);
  return {};
}

inline std::int64_t int_at(const SqlRow& row, std::size_t i) {
  RELIANT_ASSERT(i < row.size());
  if (const auto* n = std::get_if<std::int64_t>(&row[i])) return *n;
  if (const auto* d = std::get_if<double>(&row[i])) return static_cast<std::int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&row[i])) return std::stoll(*s);
  return 0;
}

inline std::optional<std::int64_t> optional_int_at(const SqlRow& row, std::size_t i) {
  RELIANT_ASSERT(i < row.size());
  if (std::holds_alternative<std::nullptr_t>(row[i])) return std::nullopt;
  return int_at(row, i);
}

inline std::optional<std::string> optional_text_at(const SqlRow& row, std::size_t i) {
  RELIANT_ASSERT(i < row.size());
  if (std::holds_alternative<std::nullptr_t>(row[i])) return std::nullopt;
  return text_at(row, i);
}

inline SqlValue nullable(const std::optional<std::int64_t>& v) {
  return v ? SqlValue(*v) : SqlValue(nullptr);
}
inline SqlValue nullable(const std::optional<std::string>& v) {
  return v ? SqlValue(*v) : SqlValue(nullptr);
}

}  // namespace reliant
