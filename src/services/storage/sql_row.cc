// Reading query rows by column name.
#include "services/storage/sql_row.h"

#include <algorithm>
#include <charconv>

#include "base/assert.h"

namespace reliant {

SqlRecord::SqlRecord(const SqlRows& rows, std::size_t index) : rows_(&rows), index_(index) {
  RELIANT_ASSERT(index < rows.rows.size());
  RELIANT_ASSERT(rows.rows[index].size() == rows.columns.size());
}

const SqlValue& SqlRecord::cell(std::string_view column) const {
  const auto& columns = rows_->columns;
  const auto found = std::find(columns.begin(), columns.end(), column);
  RELIANT_ASSERT_MSG(found != columns.end(), "a column the query does not select");
  return rows_->rows[index_][static_cast<std::size_t>(found - columns.begin())];
}

std::string SqlRecord::text(std::string_view column) const {
  const SqlValue& value = cell(column);
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* n = std::get_if<std::int64_t>(&value)) return std::to_string(*n);
  return {};
}

std::optional<std::string> SqlRecord::optional_text(std::string_view column) const {
  if (std::holds_alternative<std::nullptr_t>(cell(column))) return std::nullopt;
  return text(column);
}

std::string SqlRecord::text_or_empty(std::string_view column) const {
  return optional_text(column).value_or("");
}

std::int64_t SqlRecord::integer(std::string_view column) const {
  const SqlValue& value = cell(column);
  if (const auto* n = std::get_if<std::int64_t>(&value)) return *n;
  if (const auto* d = std::get_if<double>(&value)) return static_cast<std::int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&value)) {
    // Postgres hands some aggregates (SUM of bigint) back as numeric text.
    std::int64_t parsed = 0;
    std::from_chars(s->data(), s->data() + s->size(), parsed);
    return parsed;
  }
  return 0;
}

std::optional<std::int64_t> SqlRecord::optional_integer(std::string_view column) const {
  if (std::holds_alternative<std::nullptr_t>(cell(column))) return std::nullopt;
  return integer(column);
}

Error SqlRecord::unexpected_value(std::string_view column, std::string_view value) {
  return Error{ErrorCode::internal, "stored column " + std::string(column) + " holds '" +
                                        std::string(value) +
                                        "', a value this version does not know"};
}

SqlRecord first_record(const SqlRows& rows) {
  RELIANT_ASSERT(!rows.rows.empty());
  return SqlRecord(rows, 0);
}

std::string postgres_text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace reliant
