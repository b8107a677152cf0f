// RE2 behind LineMatcher, and the line-by-line search both hosts run.
#include "core/line_search.h"

#include <re2/re2.h>

#include <algorithm>
#include <cstring>

#include "base/assert.h"

namespace reliant {

namespace {

class Re2Matcher final : public LineMatcher {
 public:
  explicit Re2Matcher(std::unique_ptr<RE2> regex) : regex_(std::move(regex)) {}
  // RE2's matching methods are const and safe to call from many threads at once.
  bool matches(std::string_view line) const override {
    return RE2::PartialMatch(re2::StringPiece(line.data(), line.size()), *regex_);
  }

 private:
  std::unique_ptr<RE2> regex_;
};

// The longest prefix of `text` of at most `bytes_max` that does not end inside a UTF-8
// sequence.
std::size_t utf8_cut(std::string_view text, std::size_t bytes_max) {
  if (text.size() <= bytes_max) return text.size();
  std::size_t end = bytes_max;
  // Back off continuation bytes (10xxxxxx): the cut falls before the sequence they continue.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return end;
}

// How many lines go by between two questions to out_of_time: often enough that a search over
// megabytes of short lines stops within milliseconds of its deadline, rarely enough that asking
// costs nothing next to matching.
constexpr std::uint64_t kLinesBetweenClockChecks = 256;

}  // namespace

Result<std::shared_ptr<const LineMatcher>> make_regex_matcher(std::string_view pattern,
                                                              bool ignore_case) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(!ignore_case);
  options.set_max_mem(kRegexCompiledBytesMax);
  auto regex = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!regex->ok()) return fail(ErrorCode::invalid_argument, regex->error());
  return std::shared_ptr<const LineMatcher>(std::make_shared<Re2Matcher>(std::move(regex)));
}

Result<FileSearch> search_lines(std::string_view text, const LineMatcher& matcher,
                                const FileSearchLimits& limits,
                                const std::function<bool()>& out_of_time) {
  RELIANT_ASSERT(limits.line_bytes_searched_max > 0);
  FileSearch out;
  out.bytes = text.size();
  const std::size_t probe = std::min(text.size(), limits.binary_probe_bytes);
  if (std::memchr(text.data(), '\0', probe) != nullptr) {
    out.binary = true;
    return out;
  }
  std::size_t shown_bytes = 0;
  std::string_view rest = text;
  for (std::uint64_t number = 1; !rest.empty(); ++number) {
    if (out_of_time && number % kLinesBetweenClockChecks == 0 && out_of_time()) {
      return fail(ErrorCode::timeout,
                  "the search took longer than it may (" + format_duration(limits.time_max) + ")");
    }
    const std::size_t newline = rest.find('\n');
    std::string_view line = rest.substr(0, newline);
    rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!matcher.matches(line.substr(0, utf8_cut(line, limits.line_bytes_searched_max)))) continue;
    if (limits.shown_bytes_max != 0 && shown_bytes >= limits.shown_bytes_max) {
      out.stopped = true;
      break;
    }
    MatchedLine matched;
    matched.number = number;
    const std::size_t kept = utf8_cut(line, limits.shown_line_bytes_max);
    matched.text = std::string(line.substr(0, kept));
    matched.cut = kept < line.size();
    shown_bytes += matched.text.size();
    out.lines.push_back(std::move(matched));
  }
  return out;
}

}  // namespace reliant
