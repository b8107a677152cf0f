// Presets: named bundles of an agent's parameters (system prompt, model, tools, temperature,
// thinking level, the presets it may spawn) that a workflow, a group of inputs or a node applies
// under its own values. A preset file is YAML:
//
//   name: researcher                # letters, digits, _ - . (at most kPresetNameBytesMax)
//   description: What it is for
//   tag: agent                      # the group it belongs to; `presets: {tag: agent}` offers it
//   params:                         # values for the inputs (or args) of the same names
//     system_prompt: ...
//     model: {tags: [cheap]}        # or a model's name
//     tools: [tag:search, view]     # a tool filter (tool_filter.h)
//     temperature: 0.2
//     thinking_level: low
//     spawn_presets: [researcher]
//
// Params other than those are kept as given: they fill the inputs of those names.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "core/workflow/loader.h"

namespace reliant::workflow {

inline constexpr std::size_t kPresetBytesMax = 256 * 1024;
inline constexpr std::size_t kPresetNameBytesMax = 64;

struct Preset {
  std::string name;
  std::string description;
  std::string tag;  // empty: no group
  nlohmann::json params = nlohmann::json::object();
};

bool is_preset_name(std::string_view name);

// Every mistake at its place in the file (format_all names the file), or the preset.
tl::expected<Preset, std::vector<Diagnostic>> load_preset(std::string_view yaml);

// What a preset's params may hold: the error for `key`'s value ("temperature: 3 is above 2"),
// or nothing. Keys this does not know are anything.
std::optional<std::string> preset_param_error(std::string_view key, const nlohmann::json& value);

// `presets:` on a workflow, a group of inputs or a node: which preset applies unless the caller
// picks one (`default`), and which group callers pick from (`tag`). One name is {default: name}.
struct PresetChoice {
  std::string tag;
  std::string default_name;  // empty: none unless picked
};
tl::expected<PresetChoice, std::string> preset_choice(const nlohmann::json& presets);

// A node's or a caller's pick of presets: a name, or {group: name} ("default": the workflow's
// own inputs; preset_inputs.h). What is wrong with it, or nothing.
std::optional<std::string> preset_pick_error(const nlohmann::json& pick);

// `values` over the preset's params: each param `accepts` takes and `values` leaves unset (no
// value, null, or "": an empty model or prompt means "the default", which the preset is) is
// added. A caller's own value always wins.
template <typename Accepts>
nlohmann::json under_preset(const Preset& preset, nlohmann::json values, Accepts&& accepts) {
  if (!values.is_object()) values = nlohmann::json::object();
  for (const auto& [key, value] : preset.params.items()) {
    if (!accepts(key)) continue;
    const auto it = values.find(key);
    const bool unset = it == values.end() || it->is_null() || *it == "";
    if (unset) values[key] = value;
  }
  return values;
}

}  // namespace reliant::workflow
