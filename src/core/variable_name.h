// Environment variable names as the project accepts them, wherever a user hands variables over
// (the bash tool's `env`, a managed daemon's spec): a letter or '_', then letters, digits or '_'.
#pragma once

#include <algorithm>
#include <string_view>

namespace reliant {

inline bool is_variable_name(std::string_view name) {
  auto letter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (name.empty() || !letter(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return letter(c) || (c >= '0' && c <= '9'); });
}

}  // namespace reliant
