// Comma-separated flag values ("a,b,c") as lists, for the CLI's list-valued options.
#pragma once

#include <string>
#include <vector>

namespace reliant {

// Items are trimmed of spaces and empty ones dropped: " a,,b ," → {"a", "b"}.
inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    if (!item.empty()) out.push_back(std::move(item));
    start = comma + 1;
  }
  return out;
}

}  // namespace reliant
