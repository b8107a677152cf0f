// TextHash: a transparent hash for maps keyed by std::string, so that a lookup by
// std::string_view copies nothing (a prepared statement's SQL text, looked up on every
// statement, is often over a kilobyte: a copy per statement is a large allocation each time).
//   std::unordered_map<std::string, V, TextHash, std::equal_to<>> map;  map.find(view);
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace reliant {

struct TextHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace reliant
