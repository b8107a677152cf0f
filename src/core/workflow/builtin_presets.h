// The presets shipped inside the binary: their YAML, embedded at build time from
// presets/builtin/*.yaml (the table is generated: builtin_presets_sources.cc), and read once.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/workflow/preset.h"

namespace reliant::workflow {

struct BuiltinPreset {
  std::string_view name;  // its file's name, which is its own `name:` (a test checks)
  std::string_view yaml;
};

std::span<const BuiltinPreset> builtin_preset_files();
// Every built-in preset, loaded, in name order. A built-in that does not load stops the process
// at its first use: it shipped broken.
std::span<const Preset> builtin_presets();
const Preset* builtin_preset(std::string_view name);

}  // namespace reliant::workflow
