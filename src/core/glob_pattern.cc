// Glob matching: brace expansion, per-segment wildcards and `**` across segments.
#include "core/glob_pattern.h"

#include "base/assert.h"

namespace reliant {

namespace {

// Index of the brace matching the one at `open`, or npos.
std::size_t matching_brace(std::string_view p, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < p.size(); ++i) {
    if (p[i] == '\\') {
      ++i;
      continue;
    }
    if (p[i] == '{') ++depth;
    if (p[i] == '}' && --depth == 0) return i;
  }
  return std::string_view::npos;
}

// Top-level comma-separated alternatives of the text between two braces.
std::vector<std::string_view> alternatives(std::string_view inner) {
  std::vector<std::string_view> out;
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < inner.size(); ++i) {
    if (inner[i] == '\\') {
      ++i;
      continue;
    }
    if (inner[i] == '{') ++depth;
    if (inner[i] == '}') --depth;
    if (inner[i] == ',' && depth == 0) {
      out.push_back(inner.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(inner.substr(start));
  return out;
}

Result<void> expand_into(std::string_view pattern, std::vector<std::string>& out,
                         std::size_t patterns_max) {
  std::size_t open = std::string_view::npos;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
      continue;
    }
    if (pattern[i] == '}') return fail(ErrorCode::invalid_argument, "unbalanced '}' in pattern");
    if (pattern[i] == '{') {
      open = i;
      break;
    }
  }
  if (open == std::string_view::npos) {
    if (out.size() >= patterns_max) {
      return fail(ErrorCode::invalid_argument,
                  "pattern expands to more than " + std::to_string(patterns_max) + " patterns");
    }
    out.emplace_back(pattern);
    return {};
  }
  const std::size_t close = matching_brace(pattern, open);
  if (close == std::string_view::npos) {
    return fail(ErrorCode::invalid_argument, "unbalanced '{' in pattern");
  }
  const std::string_view head = pattern.substr(0, open);
  const std::string_view tail = pattern.substr(close + 1);
  for (auto alternative : alternatives(pattern.substr(open + 1, close - open - 1))) {
    std::string combined;
    combined.reserve(head.size() + alternative.size() + tail.size());
    combined.append(head).append(alternative).append(tail);
    // The alternative may hold nested braces and the tail more groups: expand recursively.
    auto expanded = expand_into(combined, out, patterns_max);
    if (!expanded) return expanded;
  }
  return {};
}

// Matches the class starting at p[i] == '[' against c. Sets `end` past the class; returns
// false with end == npos when the class is not closed (then '[' is literal).
bool match_class(std::string_view p, std::size_t i, char c, std::size_t& end) {
  std::size_t j = i + 1;
  bool negate = false;
  if (j < p.size() && (p[j] == '!' || p[j] == '^')) {
    negate = true;
    ++j;
  }
  bool matched = false;
  bool first = true;
  while (j < p.size() && (p[j] != ']' || first)) {
    first = false;
    char lo = p[j];
    if (lo == '\\' && j + 1 < p.size()) lo = p[++j];
    char hi = lo;
    if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
      hi = p[j + 2];
      if (hi == '\\' && j + 3 < p.size()) {
        hi = p[j + 3];
        ++j;
      }
      j += 2;
    }
    if (lo <= c && c <= hi) matched = true;
    ++j;
  }
  if (j >= p.size()) {
    end = std::string_view::npos;
    return false;
  }
  end = j + 1;
  return matched != negate;
}

bool is_hidden(std::string_view name) { return !name.empty() && name.front() == '.'; }

}  // namespace

Result<std::vector<std::string>> expand_glob_braces(std::string_view pattern,
                                                    std::size_t patterns_max) {
  RELIANT_ASSERT(patterns_max > 0);
  std::vector<std::string> out;
  auto expanded = expand_into(pattern, out, patterns_max);
  if (!expanded) return fail(expanded.error());
  return out;
}

bool glob_has_wildcard(std::string_view segment) {
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '\\') {
      ++i;
      continue;
    }
    if (segment[i] == '*' || segment[i] == '?' || segment[i] == '[') return true;
  }
  return false;
}

std::string glob_unescape(std::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (std::size_t i = 0; i < segment.size(); ++i) {
    if (segment[i] == '\\' && i + 1 < segment.size()) ++i;
    out += segment[i];
  }
  return out;
}

bool glob_match_segment(std::string_view p, std::string_view s) {
  if (is_hidden(s) && !is_hidden(p)) return false;
  // Two-pointer matching with one backtrack point (the last '*'): linear in practice, never
  // exponential.
  std::size_t pi = 0;
  std::size_t si = 0;
  std::size_t star_p = std::string_view::npos;
  std::size_t star_s = 0;
  while (si < s.size()) {
    bool advanced = false;
    if (pi < p.size()) {
      const char c = p[pi];
      if (c == '*') {
        star_p = pi++;
        star_s = si;
        continue;
      }
      if (c == '?') {
        ++pi;
        ++si;
        advanced = true;
      } else if (c == '[') {
        std::size_t end = 0;
        const bool hit = match_class(p, pi, s[si], end);
        if (end == std::string_view::npos) {
          if (s[si] == '[') {  // an unclosed '[' is a literal
            ++pi;
            ++si;
            advanced = true;
          }
        } else if (hit) {
          pi = end;
          ++si;
          advanced = true;
        }
      } else {
        char literal = c;
        std::size_t width = 1;
        if (c == '\\' && pi + 1 < p.size()) {
          literal = p[pi + 1];
          width = 2;
        }
        if (literal == s[si]) {
          pi += width;
          ++si;
          advanced = true;
        }
      }
    }
    if (advanced) continue;
    if (star_p == std::string_view::npos) return false;
    pi = star_p + 1;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

std::vector<std::string_view> glob_split(std::string_view pattern) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i <= pattern.size()) {
    std::size_t end = pattern.find('/', i);
    if (end == std::string_view::npos) end = pattern.size();
    if (end > i) out.push_back(pattern.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

bool glob_match_path(std::string_view pattern, std::string_view path) {
  const auto p = glob_split(pattern);
  const auto s = glob_split(path);
  // reach[j]: the first i pattern segments can match the first j path segments. O(|p|·|s|).
  std::vector<char> reach(s.size() + 1, 0);
  reach[0] = 1;
  for (std::size_t i = 0; i < p.size(); ++i) {
    std::vector<char> next(s.size() + 1, 0);
    if (p[i] == "**") {
      for (std::size_t j = 0; j <= s.size(); ++j) {
        if (reach[j]) {
          next[j] = 1;
        } else if (j > 0 && next[j - 1] && !is_hidden(s[j - 1])) {
          next[j] = 1;  // `**` swallows one more (visible) segment
        }
      }
    } else {
      for (std::size_t j = 0; j < s.size(); ++j) {
        if (reach[j] && glob_match_segment(p[i], s[j])) next[j + 1] = 1;
      }
    }
    reach = std::move(next);
  }
  return reach[s.size()] != 0;
}

}  // namespace reliant
