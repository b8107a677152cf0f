// The presets in force for a user and a project (see the header).
#include "services/storage/preset_library.h"

#include "core/workflow/builtin_presets.h"

namespace reliant {

std::string_view to_string(PresetOrigin origin) {
  switch (origin) {
    case PresetOrigin::builtin:
      return "builtin";
    case PresetOrigin::user:
      return "user";
    case PresetOrigin::project:
      return "project";
  }
  return "builtin";
}

PresetLibrary::PresetLibrary() {
  const auto files = workflow::builtin_preset_files();
  const auto presets = workflow::builtin_presets();
  for (std::size_t i = 0; i < presets.size(); ++i) {
    add({presets[i], PresetOrigin::builtin, std::string(files[i].yaml), 0});
  }
}

void PresetLibrary::add(PresetInForce preset) {
  const std::string name = preset.preset.name;
  by_name_.insert_or_assign(name, std::move(preset));
}

Result<PresetLibrary> PresetLibrary::load(SqlTransaction& tx, const std::string& user_id,
                                          const std::string& project_id) {
  auto stored = list_presets(tx, user_id, project_id);
  if (!stored) return fail(stored.error());
  PresetLibrary library;
  // The user's first, then the project's over them.
  for (const bool projects : {false, true}) {
    for (const auto& record : *stored) {
      if (record.project_id.empty() == projects) continue;
      auto loaded = workflow::load_preset(record.source);
      if (!loaded || loaded->name != record.name) continue;
      library.add({std::move(*loaded), projects ? PresetOrigin::project : PresetOrigin::user,
                   record.source, record.updated_at_ms});
    }
  }
  return library;
}

const PresetInForce* PresetLibrary::find(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

std::vector<const PresetInForce*> PresetLibrary::all() const {
  std::vector<const PresetInForce*> out;
  out.reserve(by_name_.size());
  for (const auto& [name, preset] : by_name_) out.push_back(&preset);
  return out;
}

workflow::FindPreset PresetLibrary::finder() const {
  return [this](std::string_view name) -> const workflow::Preset* {
    const PresetInForce* found = find(name);
    return found == nullptr ? nullptr : &found->preset;
  };
}

nlohmann::json to_json(const PresetInForce& preset, bool with_source) {
  nlohmann::json out = {
      {"name", preset.preset.name},     {"description", preset.preset.description},
      {"tag", preset.preset.tag},       {"origin", to_string(preset.origin)},
      {"params", preset.preset.params}, {"updated_at_ms", preset.updated_at_ms}};
  if (with_source) out["source"] = preset.source;
  return out;
}

}  // namespace reliant
