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

namespace {

// The built-ins in force, by name: built once for the process.
const std::map<std::string, PresetInForce, std::less<>>& builtins_in_force() {
  static const std::map<std::string, PresetInForce, std::less<>> builtins = [] {
    std::map<std::string, PresetInForce, std::less<>> out;
    const auto files = workflow::builtin_preset_files();
    const auto presets = workflow::builtin_presets();
    for (std::size_t i = 0; i < presets.size(); ++i) {
      out.insert_or_assign(presets[i].name, PresetInForce{presets[i], PresetOrigin::builtin,
                                                          std::string(files[i].yaml), 0});
    }
    return out;
  }();
  return builtins;
}

}  // namespace

PresetLibrary::PresetLibrary() = default;

Result<PresetLibrary> PresetLibrary::load(SqlTransaction& tx, const std::string& user_id,
                                          const std::string& project_id) {
  auto stored = list_presets(tx, user_id, project_id);
  if (!stored) return fail(stored.error());
  return of(*stored);
}

PresetLibrary PresetLibrary::of(const std::vector<PresetRecord>& stored) {
  PresetLibrary library;
  // The user's first, then the project's over them.
  for (const bool projects : {false, true}) {
    for (const auto& record : stored) {
      if (record.project_id.empty() != projects)
        library.unparsed_.insert_or_assign(record.name, record);
    }
  }
  return library;
}

const PresetInForce* PresetLibrary::find(std::string_view name) const {
  if (const auto stored = unparsed_.find(name); stored != unparsed_.end()) {
    const PresetRecord record = std::move(stored->second);
    unparsed_.erase(stored);
    auto parsed = workflow::load_preset(record.source);
    if (parsed && parsed->name == record.name) {
      loaded_.insert_or_assign(
          record.name,
          PresetInForce{std::move(*parsed),
                        record.project_id.empty() ? PresetOrigin::user : PresetOrigin::project,
                        record.source, record.updated_at_ms});
    }
  }
  if (const auto it = loaded_.find(name); it != loaded_.end()) return &it->second;
  const auto& builtins = builtins_in_force();
  const auto builtin = builtins.find(name);
  return builtin == builtins.end() ? nullptr : &builtin->second;
}

std::vector<const PresetInForce*> PresetLibrary::all() const {
  std::vector<std::string> pending;
  for (const auto& [name, record] : unparsed_) pending.push_back(name);
  for (const auto& name : pending) (void)find(name);
  // Both maps are in name order: merged, a stored preset takes its name over a built-in's.
  const auto& builtins = builtins_in_force();
  std::vector<const PresetInForce*> out;
  out.reserve(loaded_.size() + builtins.size());
  auto stored = loaded_.begin();
  auto builtin = builtins.begin();
  while (stored != loaded_.end() || builtin != builtins.end()) {
    if (builtin == builtins.end() || (stored != loaded_.end() && stored->first <= builtin->first)) {
      if (builtin != builtins.end() && builtin->first == stored->first) ++builtin;
      out.push_back(&(stored++)->second);
    } else {
      out.push_back(&(builtin++)->second);
    }
  }
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
