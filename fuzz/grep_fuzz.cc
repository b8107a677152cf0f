// Fuzz target: grep's matching (core/line_search.h). The input's first line is a pattern (a
// leading '~' asks to ignore case), the rest is the text searched. Any pattern compiles to a
// matcher or is refused with a reason; a search ends within a bound linear in the text — the
// patterns backtracking engines take exponential or quadratic time on, which froze a monolith
// (issue 38), are in the corpus — and every line it keeps matches, in order, within the limits.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/assert.h"
#include "core/line_search.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  std::string_view pattern = input.substr(0, newline);
  const std::string_view text =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  const bool ignore_case = !pattern.empty() && pattern.front() == '~';
  if (ignore_case) pattern.remove_prefix(1);
  auto matcher = reliant::make_regex_matcher(pattern, ignore_case);
  if (!matcher) {
    RELIANT_ASSERT(matcher.error().code == reliant::ErrorCode::invalid_argument);
    RELIANT_ASSERT(!matcher.error().message.empty());
    return 0;
  }
  reliant::FileSearchLimits limits;
  limits.line_bytes_searched_max = 1024;
  limits.shown_line_bytes_max = 40;
  limits.shown_bytes_max = 400;
  const auto started = std::chrono::steady_clock::now();
  auto found = reliant::search_lines(text, **matcher, limits);
  // Linear time: well under a second for what the corpus and -max_len give, sanitizers included.
  RELIANT_ASSERT(std::chrono::steady_clock::now() - started < std::chrono::seconds(2));
  RELIANT_ASSERT(found.has_value());
  RELIANT_ASSERT(found->bytes == text.size());
  std::uint64_t previous = 0;
  std::size_t shown_bytes = 0;
  for (const auto& line : found->lines) {
    RELIANT_ASSERT(line.number > previous);
    previous = line.number;
    RELIANT_ASSERT(line.text.size() <= limits.shown_line_bytes_max);
    RELIANT_ASSERT(shown_bytes < limits.shown_bytes_max);
    shown_bytes += line.text.size();
    if (!line.cut && line.text.size() <= limits.line_bytes_searched_max) {
      RELIANT_ASSERT((*matcher)->matches(line.text));
    }
  }
  return 0;
}
