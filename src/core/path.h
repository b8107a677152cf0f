// Lexical path arithmetic on '/'-separated absolute paths: pure string work, no file system,
// so the daemon's tools and the simulated host resolve paths identically.
#pragma once

#include <string>
#include <string_view>

namespace reliant {

inline bool is_absolute_path(std::string_view p) { return !p.empty() && p.front() == '/'; }

// Drops empty and "." segments and applies ".." (never above "/"); no trailing slash except
// for "/" itself. `p` must be absolute.
std::string normalize_path(std::string_view p);

// `p` itself when absolute, else `base`/`p`; normalized either way. `base` must be absolute.
// An empty `p` is `base`.
std::string resolve_path(std::string_view base, std::string_view p);

// `dir` + "/" + `name` without doubling the slash ("/" + "a" is "/a").
std::string join_path(std::string_view dir, std::string_view name);

// Of a normalized path: "/a/b" -> "/a", "/a" -> "/", "/" -> "/".
std::string_view parent_path(std::string_view normalized);
// Of a normalized path: "/a/b" -> "b", "/" -> "".
std::string_view file_name(std::string_view normalized);

// True when normalized `p` is `base` or lies below it.
bool path_within(std::string_view base, std::string_view p);

// How a path is shown to the model: relative to `base` when inside it ("src/a.cc", or "." for
// `base` itself), otherwise absolute. Both must be normalized.
std::string display_path(std::string_view base, std::string_view p);

}  // namespace reliant
