// Applying presets to a run's inputs (see the header).
#include "core/workflow/preset_inputs.h"

#include <algorithm>
#include <vector>

namespace reliant::workflow {
namespace {

std::string quoted_name(std::string_view name) { return "\"" + std::string(name) + "\""; }

const InputSpec* group_named(const Definition& definition, std::string_view name) {
  for (const auto& spec : definition.inputs) {
    if (spec.type == InputType::group && spec.name == name) return &spec;
  }
  return nullptr;
}

// The preset `name` names for `what` (the workflow, or a group), checked against `tag`.
tl::expected<const Preset*, std::string> preset_for(std::string_view name, std::string_view tag,
                                                    bool picked, std::string_view what,
                                                    const FindPreset& find) {
  const Preset* preset = find(name);
  if (preset == nullptr) return tl::unexpected("no preset " + quoted_name(name));
  // A preset from another group would set inputs the workflow means otherwise. The file's own
  // default is the author's choice and is not second-guessed.
  if (picked && !tag.empty() && preset->tag != tag) {
    return tl::unexpected("preset " + quoted_name(name) + " is tagged " + quoted_name(preset->tag) +
                          ", and " + std::string(what) + " takes presets tagged " +
                          quoted_name(tag));
  }
  return preset;
}

// Fills `values` (an object) from the preset's params that `specs` declares.
void fill(const Preset& preset, const std::vector<InputSpec>& specs, nlohmann::json& values) {
  values = under_preset(preset, std::move(values), [&](const std::string& key) {
    return std::any_of(specs.begin(), specs.end(), [&](const InputSpec& spec) {
      return spec.name == key && spec.type != InputType::group;
    });
  });
}

tl::expected<void, std::string> check_preset_input(const InputSpec& spec,
                                                   const nlohmann::json& value,
                                                   const FindPreset& find) {
  std::vector<nlohmann::json> names;
  if (value.is_array()) {
    names.assign(value.begin(), value.end());
  } else if (!value.is_null() &&
             !(value.is_string() && value.get_ref<const std::string&>().empty())) {
    names.push_back(value);
  }
  const nlohmann::json tags =
      spec.extra.is_object() ? spec.extra.value("tags", nlohmann::json()) : nlohmann::json();
  for (const auto& name : names) {
    if (!name.is_string()) {
      return tl::unexpected("input " + quoted_name(spec.name) + ": " + name.dump() +
                            " is not a preset's name");
    }
    const Preset* preset = find(name.get_ref<const std::string&>());
    if (preset == nullptr) {
      return tl::unexpected("input " + quoted_name(spec.name) + ": no preset " + name.dump());
    }
    if (tags.is_array() && !tags.empty() &&
        std::find(tags.begin(), tags.end(), nlohmann::json(preset->tag)) == tags.end()) {
      return tl::unexpected("input " + quoted_name(spec.name) + ": preset " + name.dump() +
                            " is tagged " + quoted_name(preset->tag) + ", not one of " +
                            tags.dump());
    }
  }
  return {};
}

tl::expected<void, std::string> check_preset_inputs(const std::vector<InputSpec>& specs,
                                                    const nlohmann::json& values,
                                                    const FindPreset& find) {
  for (const auto& spec : specs) {
    const auto given = values.is_object() ? values.find(spec.name) : values.end();
    const bool has = values.is_object() && given != values.end();
    if (spec.type == InputType::group) {
      const nlohmann::json inner =
          has ? *given : spec.default_value.value_or(nlohmann::json::object());
      if (auto ok = check_preset_inputs(spec.fields, inner, find); !ok) return ok;
    } else if (spec.type == InputType::preset) {
      const nlohmann::json value = has ? *given : spec.default_value.value_or(nlohmann::json());
      if (auto ok = check_preset_input(spec, value, find); !ok) return ok;
    }
  }
  return {};
}

}  // namespace

tl::expected<nlohmann::json, std::string> picked_presets(const Definition& definition,
                                                         const nlohmann::json& picked) {
  if (picked.is_null()) return nlohmann::json::object();
  if (picked.is_string()) return picked_presets(definition, {{kOwnInputsGroup, picked}});
  if (!picked.is_object()) {
    return tl::unexpected("presets are {group: preset} or a preset's name, not " + picked.dump());
  }
  for (const auto& [group, name] : picked.items()) {
    if (!name.is_string() || !is_preset_name(name.get_ref<const std::string&>())) {
      return tl::unexpected("presets." + group + ": " + name.dump() + " is not a preset's name");
    }
    if (group != kOwnInputsGroup && group_named(definition, group) == nullptr) {
      return tl::unexpected("presets." + group + ": workflow " + quoted_name(definition.name) +
                            " has no input group " + quoted_name(group));
    }
  }
  return picked;
}

tl::expected<nlohmann::json, std::string> inputs_under_presets(const Definition& definition,
                                                               nlohmann::json given,
                                                               const nlohmann::json& picked,
                                                               const FindPreset& find) {
  auto groups = picked_presets(definition, picked);
  if (!groups) return tl::unexpected(groups.error());
  if (!given.is_object()) given = nlohmann::json::object();

  const auto own = preset_choice(definition.presets);
  if (!own) return tl::unexpected("presets: " + own.error());
  const std::string own_pick = groups->value(std::string(kOwnInputsGroup), "");
  if (const std::string name = own_pick.empty() ? own->default_name : own_pick; !name.empty()) {
    const std::string what = "workflow " + quoted_name(definition.name);
    auto preset = preset_for(name, own->tag, !own_pick.empty(), what, find);
    if (!preset) return tl::unexpected(preset.error());
    fill(**preset, definition.inputs, given);
  }
  for (const auto& spec : definition.inputs) {
    if (spec.type != InputType::group) continue;
    const auto choice = preset_choice(
        spec.extra.is_object() ? spec.extra.value("presets", nlohmann::json()) : nlohmann::json());
    if (!choice) return tl::unexpected("input " + quoted_name(spec.name) + ": " + choice.error());
    const std::string pick = groups->value(spec.name, "");
    const std::string name = pick.empty() ? choice->default_name : pick;
    if (name.empty()) continue;
    auto preset =
        preset_for(name, choice->tag, !pick.empty(), "group " + quoted_name(spec.name), find);
    if (!preset) return tl::unexpected(preset.error());
    nlohmann::json& values = given[spec.name];
    if (values.is_null()) values = spec.default_value.value_or(nlohmann::json::object());
    if (!values.is_object()) continue;  // resolve_inputs reports it
    fill(**preset, spec.fields, values);
  }
  if (auto ok = check_preset_inputs(definition.inputs, given, find); !ok)
    return tl::unexpected(ok.error());
  return given;
}

}  // namespace reliant::workflow
