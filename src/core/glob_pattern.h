// Glob patterns as the daemon's glob and grep tools understand them: `*` and `?` within one
// path segment, `[a-z]`/`[!x]` classes, `\` escapes, `**` for any number of directories and
// `{a,b}` alternatives. Pure string matching, so every host behaves alike.
//
// Hidden names (a leading '.') match only a pattern segment that itself starts with '.', and
// `**` never crosses a hidden directory — the shell's convention, which keeps `.git` out.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace reliant {

// Expands `{a,b}` alternatives (nested allowed) into plain patterns, in order. Fails with
// `invalid_argument` on unbalanced braces or when more than `patterns_max` would result.
Result<std::vector<std::string>> expand_glob_braces(std::string_view pattern,
                                                    std::size_t patterns_max = 256);

// True when `segment` contains `*`, `?` or `[` (unescaped): it needs a directory listing.
bool glob_has_wildcard(std::string_view segment);

// `segment` with its `\` escapes removed: the literal name a wildcard-free segment denotes.
std::string glob_unescape(std::string_view segment);

// Matches one path segment (no '/') against one pattern segment (not "**").
bool glob_match_segment(std::string_view pattern, std::string_view name);

// Splits on '/', dropping empty segments ("a//b/" -> {"a", "b"}).
std::vector<std::string_view> glob_split(std::string_view pattern);

// Matches a relative, '/'-separated path against a brace-free pattern. A trailing "**"
// matches everything below; "**" alone matches any path.
bool glob_match_path(std::string_view pattern, std::string_view path);

}  // namespace reliant
