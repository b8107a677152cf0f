// Reading tool filters: the entry grammar tool_filter.h describes.
#include "core/workflow/tool_filter.h"

#include <algorithm>

#include "base/ascii.h"

namespace reliant::workflow {
namespace {

bool is_name_char(char c) {
  return is_ascii_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         c == '-' || c == '.' || c == '/';
}

// The first character a name (or a pattern, when `star` allows `*`) may not hold, or npos.
std::size_t bad_char(std::string_view text, bool star) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_name_char(text[i]) && !(star && text[i] == '*')) return i;
  }
  return std::string_view::npos;
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string_view blank_trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

tl::expected<ToolFilterEntry, std::string> spawn_entry(std::string_view whole,
                                                       std::string_view rest) {
  const std::size_t open = rest.find('(');
  if (open == std::string_view::npos || rest.back() != ')') {
    return tl::unexpected(quoted(whole) + ": a spawn entry is spawn:WORKFLOW(PRESET,…)");
  }
  ToolFilterEntry entry;
  entry.kind = ToolFilterEntry::Kind::spawn;
  entry.text = std::string(blank_trimmed(rest.substr(0, open)));
  if (entry.text.empty()) return tl::unexpected(quoted(whole) + ": spawn names no workflow");
  std::string_view list = rest.substr(open + 1, rest.size() - open - 2);
  while (!blank_trimmed(list).empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view name = blank_trimmed(list.substr(0, comma));
    if (name.empty() || bad_char(name, false) != std::string_view::npos) {
      return tl::unexpected(quoted(whole) + ": " + quoted(name) + " is not a preset name");
    }
    entry.presets.emplace_back(name);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
    if (blank_trimmed(list).empty())
      return tl::unexpected(quoted(whole) + ": a preset name is missing");
  }
  return entry;
}

}  // namespace

tl::expected<ToolFilterEntry, std::string> parse_tool_filter_entry(std::string_view text) {
  if (text.empty()) return tl::unexpected(std::string("an empty entry names no tool"));
  if (text.size() > kToolFilterEntryBytesMax) {
    return tl::unexpected("an entry is longer than " + std::to_string(kToolFilterEntryBytesMax) +
                          " bytes");
  }
  if (text.starts_with("spawn:")) return spawn_entry(text, text.substr(6));
  ToolFilterEntry entry;
  std::string_view rest = text;
  if (rest.starts_with('!')) {
    entry.exclude = true;
    rest.remove_prefix(1);
    if (rest.empty()) return tl::unexpected(quoted(text) + " excludes nothing");
    if (rest.starts_with("spawn:")) {
      return tl::unexpected(quoted(text) + ": leave the spawn entry out instead of excluding it");
    }
  }
  if (rest.starts_with("tag:")) {
    entry.kind = ToolFilterEntry::Kind::tag;
    rest.remove_prefix(4);
    if (rest.empty()) return tl::unexpected(quoted(text) + " names no tag");
    if (const std::size_t at = bad_char(rest, false); at != std::string_view::npos) {
      return tl::unexpected(quoted(text) + ": a tag is letters, digits, _ - . and /, not " +
                            quoted(rest.substr(at, 1)));
    }
    entry.text = std::string(rest);
    return entry;
  }
  if (const std::size_t at = bad_char(rest, true); at != std::string_view::npos) {
    return tl::unexpected(quoted(text) +
                          ": an entry is a tool name, a pattern with *, tag:TAG, !ENTRY or "
                          "spawn:WORKFLOW(PRESETS); " +
                          quoted(rest.substr(at, 1)) + " has no place in it");
  }
  entry.kind = rest.find('*') == std::string_view::npos ? ToolFilterEntry::Kind::name
                                                        : ToolFilterEntry::Kind::pattern;
  entry.text = std::string(rest);
  return entry;
}

tl::expected<ToolFilter, std::string> parse_tool_filter(const nlohmann::json& filter) {
  ToolFilter out;
  auto add = [&](const nlohmann::json& item, std::size_t index) -> tl::expected<void, std::string> {
    const std::string where = filter.is_array() ? "entry " + std::to_string(index) + ": " : "";
    if (!item.is_string()) {
      return tl::unexpected(where + item.dump() + " is not a tool name, pattern or tag:TAG");
    }
    // "" is no entry: what CEL's spawn() gives for no presets.
    if (item.get_ref<const std::string&>().empty()) return {};
    auto entry = parse_tool_filter_entry(item.get_ref<const std::string&>());
    if (!entry) return tl::unexpected(where + entry.error());
    if (!entry->exclude) out.has_includes = true;
    out.entries.push_back(std::move(*entry));
    return {};
  };
  if (filter.is_string()) {
    if (auto ok = add(filter, 0); !ok) return tl::unexpected(ok.error());
    return out;
  }
  if (!filter.is_array()) {
    return tl::unexpected(
        "a tool filter is a list of tool names, patterns and tag:TAG entries, "
        "not " +
        filter.dump());
  }
  if (filter.size() > kToolFilterEntriesMax) {
    return tl::unexpected("a tool filter holds at most " + std::to_string(kToolFilterEntriesMax) +
                          " entries");
  }
  for (std::size_t i = 0; i < filter.size(); ++i) {
    if (auto ok = add(filter[i], i); !ok) return tl::unexpected(ok.error());
  }
  return out;
}

bool tool_pattern_matches(std::string_view pattern, std::string_view name) {
  // Greedy matching with one backtrack point: `*` matches no `*`, so the last star is enough.
  std::size_t p = 0;
  std::size_t n = 0;
  std::size_t star = std::string_view::npos;
  std::size_t resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && pattern[p] == name[n]) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::vector<std::string> spawn_presets_of(const ToolFilter& filter) {
  std::vector<std::string> out;
  for (const auto& entry : filter.entries) {
    if (entry.kind != ToolFilterEntry::Kind::spawn) continue;
    for (const auto& name : entry.presets) {
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
  }
  return out;
}

}  // namespace reliant::workflow
