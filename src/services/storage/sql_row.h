// Rows of a query's result read by column name, with typed cells, so repositories need no
// variant juggling and no column positions to keep in step with their SELECT lists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/enum_names.h"
#include "base/result.h"
#include "runtime/store.h"

namespace reliant {

// One row of `rows`. A column the query did not select is a bug in the query (asserted); a
// cell whose content is not what the schema promises is a failure (enumerated).
class SqlRecord {
 public:
  SqlRecord(const SqlRows& rows, std::size_t index);

  std::string text(std::string_view column) const;
  std::optional<std::string> optional_text(std::string_view column) const;
  // NULL reads as empty: for optional ids kept as strings.
  std::string text_or_empty(std::string_view column) const;
  std::int64_t integer(std::string_view column) const;
  std::optional<std::int64_t> optional_integer(std::string_view column) const;

  // The enum value the cell names; a name outside `names` (a row the CHECK constraints of the
  // schema should have refused) fails with `internal` instead of guessing.
  template <typename Enum, std::size_t N>
  Result<Enum> enumerated(std::string_view column, const EnumNames<Enum, N>& names) const {
    const std::string name = text(column);
    if (const auto value = value_named(names, name)) return *value;
    return fail(unexpected_value(column, name));
  }

 private:
  const SqlValue& cell(std::string_view column) const;
  static Error unexpected_value(std::string_view column, std::string_view value);

  const SqlRows* rows_;
  std::size_t index_;
};

// `for (const SqlRecord& row : records(*rows))`.
class SqlRecords {
 public:
  class Iterator {
   public:
    Iterator(const SqlRows& rows, std::size_t index) : rows_(&rows), index_(index) {}
    SqlRecord operator*() const { return SqlRecord(*rows_, index_); }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator==(const Iterator& other) const { return index_ == other.index_; }

   private:
    const SqlRows* rows_;
    std::size_t index_;
  };

  explicit SqlRecords(const SqlRows& rows) : rows_(rows) {}
  Iterator begin() const { return {rows_, 0}; }
  Iterator end() const { return {rows_, rows_.rows.size()}; }

 private:
  const SqlRows& rows_;
};

inline SqlRecords records(const SqlRows& rows) { return SqlRecords(rows); }
// The first row; the query returned at least one (asserted).
SqlRecord first_record(const SqlRows& rows);

inline SqlValue nullable(const std::optional<std::int64_t>& v) {
  return v ? SqlValue(*v) : SqlValue(nullptr);
}
inline SqlValue nullable(const std::optional<std::string>& v) {
  return v ? SqlValue(*v) : SqlValue(nullptr);
}

// A Postgres array literal of texts, {"a","b\"c"} (each element quoted, `"` and `\` escaped):
// one parameter carrying many values, for `unnest`.
std::string postgres_text_array(const std::vector<std::string>& items);

}  // namespace reliant
