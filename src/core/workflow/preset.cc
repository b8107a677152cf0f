// Reading and checking preset files, and `presets:` choices.
#include "core/workflow/preset.h"

#include <algorithm>
#include <array>
#include <optional>

#include "base/ascii.h"
#include "base/utf8.h"
#include "core/workflow/bounded_yaml.h"
#include "core/workflow/tool_filter.h"
#include "core/workflow/yaml_values.h"

namespace reliant::workflow {
namespace {

constexpr std::array<std::string_view, 4> kPresetKeys = {"name", "description", "tag", "params"};
constexpr std::array<std::string_view, 5> kThinkingLevels = {"none", "low", "medium", "high",
                                                             "xhigh"};
constexpr double kTemperatureMax = 2.0;

std::string names_error(const nlohmann::json& value, std::string_view what) {
  if (!value.is_array())
    return std::string(what) + " is a list of preset names, not " + value.dump();
  for (const auto& item : value) {
    if (!item.is_string() || !is_preset_name(item.get_ref<const std::string&>())) {
      return std::string(what) + ": " + item.dump() + " is not a preset name";
    }
  }
  return {};
}

std::string strings_error(const nlohmann::json& value, std::string_view what) {
  if (!value.is_array()) return std::string(what) + " is a list of names, not " + value.dump();
  for (const auto& item : value) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty())
      return std::string(what) + ": " + item.dump() + " is not a name";
  }
  return {};
}

}  // namespace

std::optional<std::string> preset_param_error(std::string_view key, const nlohmann::json& value);

namespace {

std::string model_error(const nlohmann::json& value) {
  if (value.is_string()) {
    return value.get_ref<const std::string&>().empty() ? "model: an empty name names no model"
                                                       : std::string();
  }
  if (!value.is_object()) return "model is a name or {name, tags, providers}, not " + value.dump();
  for (const auto& [key, field] : value.items()) {
    if (key == "name" || key == "id" || key == "provider") {
      if (!field.is_string()) return "model." + key + " is a string, not " + field.dump();
    } else if (key == "tags" || key == "providers") {
      if (auto error = strings_error(field, "model." + key); !error.empty()) return error;
    } else if (key == "temperature" || key == "thinking_level") {
      if (auto error = preset_param_error(key, field)) return "model." + *error;
    } else {
      return "unknown key \"" + key +
             "\" in model (expected name, id, tags, provider, providers, temperature, "
             "thinking_level)";
    }
  }
  return {};
}

}  // namespace

bool is_preset_name(std::string_view name) {
  if (name.empty() || name.size() > kPresetNameBytesMax) return false;
  for (const char c : name) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter && !is_ascii_digit(c) && c != '_' && c != '-' && c != '.') return false;
  }
  return name.front() != '.' && name.front() != '-';
}

std::optional<std::string> preset_param_error(std::string_view key, const nlohmann::json& value) {
  std::string error;
  if (key == "system_prompt") {
    if (!value.is_string()) error = "system_prompt is text, not " + value.dump();
  } else if (key == "model") {
    error = model_error(value);
  } else if (key == "tools" || key == "tool_filter") {
    if (auto filter = parse_tool_filter(value); !filter)
      error = std::string(key) + ": " + filter.error();
  } else if (key == "temperature") {
    if (!value.is_number()) {
      error = "temperature is a number, not " + value.dump();
    } else if (value.get<double>() < 0 || value.get<double>() > kTemperatureMax) {
      error = "temperature " + value.dump() + " is outside 0 to 2";
    }
  } else if (key == "thinking_level") {
    const bool known = value.is_string() &&
                       std::find(kThinkingLevels.begin(), kThinkingLevels.end(),
                                 value.get_ref<const std::string&>()) != kThinkingLevels.end();
    if (!known) error = "thinking_level is none, low, medium, high or xhigh, not " + value.dump();
  } else if (key == "spawn_presets") {
    error = names_error(value, "spawn_presets");
  }
  if (error.empty()) return std::nullopt;
  return error;
}

tl::expected<Preset, std::vector<Diagnostic>> load_preset(std::string_view yaml) {
  using Errors = std::vector<Diagnostic>;
  if (yaml.size() > kPresetBytesMax) {
    return tl::unexpected(
        Errors{{{}, "the file is larger than " + std::to_string(kPresetBytesMax) + " bytes"}});
  }
  if (!is_valid_utf8(yaml)) return tl::unexpected(Errors{{{}, "the file is not valid UTF-8"}});
  auto loaded = load_yaml(yaml);
  if (!loaded) return tl::unexpected(Errors{std::move(loaded.error())});
  const YAML::Node root = std::move(*loaded);
  if (!root.IsMap()) return tl::unexpected(Errors{{mark_of(root), "a preset must be a YAML map"}});
  Errors errors;
  Preset preset;
  auto text_at = [&](std::string_view key, std::string& into) {
    const YAML::Node node = child(root, key);
    if (!node) return;
    if (!node.IsScalar()) {
      errors.push_back({mark_of(node), std::string(key) + " must be a string"});
      return;
    }
    into = node.Scalar();
  };
  try {
    for (const auto& entry : root) {
      const std::string key = entry.first.Scalar();
      if (std::find(kPresetKeys.begin(), kPresetKeys.end(), key) == kPresetKeys.end()) {
        errors.push_back({mark_of(entry.first), "unknown key \"" + key +
                                                    "\" in the preset (expected name, "
                                                    "description, tag, params)"});
      }
    }
    text_at("name", preset.name);
    text_at("description", preset.description);
    text_at("tag", preset.tag);
    if (!child(root, "name")) {
      errors.push_back({mark_of(root), "a preset needs a name"});
    } else if (child(root, "name").IsScalar() && !is_preset_name(preset.name)) {
      errors.push_back({mark_of(child(root, "name")),
                        "name \"" + preset.name +
                            "\" is not a preset name (letters, digits, _ - . and at most " +
                            std::to_string(kPresetNameBytesMax) + " bytes)"});
    }
    if (const YAML::Node params = child(root, "params"); params && !params.IsNull()) {
      if (!params.IsMap()) {
        errors.push_back({mark_of(params), "params must be a map of parameter values"});
      } else {
        for (const auto& entry : params) {
          const std::string key = entry.first.Scalar();
          nlohmann::json value = to_json(entry.second);
          if (auto error = preset_param_error(key, value)) {
            errors.push_back({mark_of(entry.second), "params." + *error});
          }
          preset.params[key] = std::move(value);
        }
      }
    }
  } catch (const YAML::Exception& e) {
    errors.push_back({Mark{e.mark.line + 1, e.mark.column + 1}, "YAML: " + e.msg});
  }
  if (!errors.empty()) return tl::unexpected(std::move(errors));
  return preset;
}

std::optional<std::string> preset_pick_error(const nlohmann::json& pick) {
  if (pick.is_null()) return std::nullopt;
  auto name_error = [](const nlohmann::json& name, const std::string& where) {
    if (name.is_string() && is_preset_name(name.get_ref<const std::string&>()))
      return std::string();
    return where + name.dump() + " is not a preset's name";
  };
  std::string error;
  if (pick.is_string()) {
    error = name_error(pick, "presets: ");
  } else if (pick.is_object()) {
    for (const auto& [group, name] : pick.items()) {
      error = name_error(name, "presets." + group + ": ");
      if (!error.empty()) break;
    }
  } else {
    error = "presets is a preset's name or {group: preset}, not " + pick.dump();
  }
  if (error.empty()) return std::nullopt;
  return error;
}

tl::expected<PresetChoice, std::string> preset_choice(const nlohmann::json& presets) {
  PresetChoice choice;
  if (presets.is_null()) return choice;
  if (presets.is_string()) {
    choice.default_name = presets.get<std::string>();
  } else if (presets.is_object()) {
    for (const auto& [key, value] : presets.items()) {
      if (key != "tag" && key != "default") {
        return tl::unexpected("unknown key \"" + key + "\" in presets (expected tag, default)");
      }
      if (!value.is_string()) return tl::unexpected("presets." + key + " must be a string");
    }
    choice.tag = presets.value("tag", "");
    choice.default_name = presets.value("default", "");
  } else {
    return tl::unexpected("presets is {tag, default} or a preset's name, not " + presets.dump());
  }
  if (!choice.default_name.empty() && !is_preset_name(choice.default_name)) {
    return tl::unexpected("presets.default: \"" + choice.default_name + "\" is not a preset name");
  }
  return choice;
}

}  // namespace reliant::workflow
