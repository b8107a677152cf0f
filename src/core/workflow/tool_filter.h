// Tool filters as workflows and presets write them: the list a node's `tool_filter` (or `tools`)
// and a preset's `tools` hold, read into entries, with a precise error for an entry of the wrong
// shape — a malformed filter is refused, never read as "every tool".
//
//   NAME            the tool NAME (mcp__SERVER__TOOL for an MCP server's tool)
//   PATTERN         names matching a pattern where `*` stands for any run of characters
//                   (mcp__github__*: every tool of the server github); `*` alone is every tool
//   tag:TAG         the tools that have TAG (default, readonly, edit, shell, mcp, a server's name…)
//   !NAME, !PATTERN, !tag:TAG
//                   excludes: a tool one of them matches is left out, whatever includes it
//   spawn:REF(P1,P2,…)
//                   the spawn tools, starting the workflow REF with one of the presets P1, P2…
//
// A tool passes when an include matches it (or the filter has excludes only) and no exclude
// does; an empty filter passes nothing. Matching a name to its tags is the caller's: the tags live
// with the tools.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

namespace reliant::workflow {

struct ToolFilterEntry {
  enum class Kind { name, pattern, tag, spawn };
  Kind kind = Kind::name;
  bool exclude = false;
  std::string text;                  // the name, pattern, tag, or spawn's workflow ref
  std::vector<std::string> presets;  // spawn: the presets it may start
};

struct ToolFilter {
  std::vector<ToolFilterEntry> entries;
  bool has_includes = false;  // false: every tool is a candidate, excludes aside
};

inline constexpr std::size_t kToolFilterEntriesMax = 512;
inline constexpr std::size_t kToolFilterEntryBytesMax = 512;

// One entry, or what is wrong with it ("\"!\" names no tool").
tl::expected<ToolFilterEntry, std::string> parse_tool_filter_entry(std::string_view text);

// A filter as JSON holds it: a list of entries, or one entry written as a string (a list of
// one); "" is no entry (CEL's spawn() of no presets). Anything else — a number, a map, a list
// holding one — is an error naming what is wrong.
tl::expected<ToolFilter, std::string> parse_tool_filter(const nlohmann::json& filter);

// Whether the pattern (its `*`s match any run of characters, nothing else is special) matches
// `name` whole.
bool tool_pattern_matches(std::string_view pattern, std::string_view name);

// The tools a spawn entry offers: spawn starts a sub-agent, the others work on the ones started.
inline bool is_spawn_tool(std::string_view tool) {
  return tool == "spawn" || tool == "spawn_status" || tool == "spawn_send" || tool == "spawn_stop";
}

// Whether `filter` lets the tool through, given a predicate telling whether the tool has a tag.
// The spawn tools come only from a spawn entry that names presets (`spawn:REF()` offers none),
// never from a tag or a pattern; excludes by name remove them as any other.
template <typename HasTag>
bool tool_passes(const ToolFilter& filter, std::string_view tool, HasTag&& has_tag) {
  const bool spawn_tool = is_spawn_tool(tool);
  auto matches = [&](const ToolFilterEntry& entry) {
    switch (entry.kind) {
      case ToolFilterEntry::Kind::name:
        return entry.text == tool;
      case ToolFilterEntry::Kind::pattern:
        return tool_pattern_matches(entry.text, tool) && (!spawn_tool || entry.exclude);
      case ToolFilterEntry::Kind::tag:
        return !spawn_tool && static_cast<bool>(has_tag(std::string_view(entry.text)));
      case ToolFilterEntry::Kind::spawn:
        return spawn_tool && (entry.exclude || !entry.presets.empty());
    }
    return false;
  };
  // Excludes only: every tool but those. No entry at all: no tool.
  bool included = !spawn_tool && !filter.has_includes && !filter.entries.empty();
  for (const auto& entry : filter.entries) {
    if (entry.exclude) {
      if (matches(entry)) return false;
    } else if (!included && matches(entry)) {
      included = true;
    }
  }
  return included;
}

// The spawn entries' presets, in the order written, each once: what a spawn may start.
std::vector<std::string> spawn_presets_of(const ToolFilter& filter);

}  // namespace reliant::workflow
