// Lookup over the embedded built-in presets, loaded once.
#include "core/workflow/builtin_presets.h"

#include <vector>

#include "base/assert.h"

namespace reliant::workflow {

std::span<const BuiltinPreset> embedded_builtin_presets();  // builtin_presets_sources.cc

std::span<const BuiltinPreset> builtin_preset_files() { return embedded_builtin_presets(); }

std::span<const Preset> builtin_presets() {
  static const std::vector<Preset> presets = [] {
    std::vector<Preset> out;
    for (const auto& file : builtin_preset_files()) {
      auto loaded = load_preset(file.yaml);
      RELIANT_ASSERT(loaded.has_value());
      RELIANT_ASSERT(loaded->name == file.name);
      out.push_back(std::move(*loaded));
    }
    return out;
  }();
  return presets;
}

const Preset* builtin_preset(std::string_view name) {
  for (const auto& preset : builtin_presets()) {
    if (preset.name == name) return &preset;
  }
  return nullptr;
}

}  // namespace reliant::workflow
