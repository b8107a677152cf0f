// Grep's matching, without I/O: a regular expression as a thread-safe LineMatcher (RE2, linear
// in the text, so no pattern can make a search take exponential time), and the search of a
// file's text for matching lines within the limits a Host's search_file is given. Both hosts
// (PosixHost on its file threads, SimHost in virtual time) search with search_lines.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "base/result.h"
#include "runtime/host.h"

namespace reliant {

// RE2 syntax (https://github.com/google/re2/wiki/Syntax): no backreferences or lookaround.
// Fails with `invalid_argument` and RE2's reason when the pattern does not compile, or would
// take more than kRegexCompiledBytesMax compiled.
inline constexpr std::int64_t kRegexCompiledBytesMax = 8 << 20;
Result<std::shared_ptr<const LineMatcher>> make_regex_matcher(std::string_view pattern,
                                                              bool ignore_case);

// The lines of `text` that `matcher` matches (line ends "\n" or "\r\n"). `out_of_time` is asked
// between lines (null: never); when it says yes the search fails with `timeout`.
Result<FileSearch> search_lines(std::string_view text, const LineMatcher& matcher,
                                const FileSearchLimits& limits,
                                const std::function<bool()>& out_of_time = {});

}  // namespace reliant
