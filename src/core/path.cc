// Lexical path arithmetic: normalization, joining and display.
#include "core/path.h"

#include <vector>

#include "base/assert.h"

namespace reliant {

std::string normalize_path(std::string_view p) {
  RELIANT_ASSERT_MSG(is_absolute_path(p), "normalize_path needs an absolute path");
  std::vector<std::string_view> segments;
  std::size_t i = 0;
  while (i < p.size()) {
    while (i < p.size() && p[i] == '/') ++i;
    std::size_t end = p.find('/', i);
    if (end == std::string_view::npos) end = p.size();
    const std::string_view segment = p.substr(i, end - i);
    i = end;
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(segment);
  }
  if (segments.empty()) return "/";
  std::string out;
  out.reserve(p.size());
  for (auto segment : segments) {
    out += '/';
    out += segment;
  }
  return out;
}

std::string resolve_path(std::string_view base, std::string_view p) {
  if (is_absolute_path(p)) return normalize_path(p);
  if (p.empty()) return normalize_path(base);
  return normalize_path(join_path(base, p));
}

std::string join_path(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

std::string_view parent_path(std::string_view normalized) {
  const std::size_t slash = normalized.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return normalized.substr(0, slash);
}

std::string_view file_name(std::string_view normalized) {
  const std::size_t slash = normalized.rfind('/');
  if (slash == std::string_view::npos) return normalized;
  return normalized.substr(slash + 1);
}

bool path_within(std::string_view base, std::string_view p) {
  if (base == "/") return is_absolute_path(p);
  if (p.size() < base.size() || p.substr(0, base.size()) != base) return false;
  return p.size() == base.size() || p[base.size()] == '/';
}

std::string display_path(std::string_view base, std::string_view p) {
  if (!path_within(base, p)) return std::string(p);
  if (p.size() == base.size()) return ".";
  const std::size_t skip = base == "/" ? 1 : base.size() + 1;
  return std::string(p.substr(skip));
}

}  // namespace reliant
