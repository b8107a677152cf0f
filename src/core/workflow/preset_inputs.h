// Presets applied to what a workflow starts with. A workflow's `presets: {tag, default}` names
// the preset its own inputs take unless the caller picks another; a group input's `presets:`
// does the same for the group's fields; a caller (a chat, a run's start, a workflow node's
// `presets:`) picks by group: {default: NAME} for the workflow's own inputs, {GROUP: NAME} for a
// group's, or just NAME. The preset's params fill the inputs of the same names that the caller
// left unset, so the caller's own values win and the inputs' defaults yield to the preset. Params
// the workflow does not declare are left out, as a node's args are. Inputs of type `preset` must
// name presets that exist (and carry one of the input's `tags`).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "core/workflow/definition.h"
#include "core/workflow/preset.h"

namespace reliant::workflow {

// The preset of that name the caller can see, or null.
using FindPreset = std::function<const Preset*(std::string_view name)>;

inline constexpr std::string_view kOwnInputsGroup = "default";

// The caller's pick in its one form, {group: name}: null is none, a name is {default: name}.
// Fails naming what is wrong: a malformed name, a group the definition does not have.
tl::expected<nlohmann::json, std::string> picked_presets(const Definition& definition,
                                                         const nlohmann::json& picked);

// `given` with the picked (else default) presets' params under it, and the preset inputs
// checked. Fails naming an unknown preset, one of the wrong tag, or a bad pick.
tl::expected<nlohmann::json, std::string> inputs_under_presets(const Definition& definition,
                                                               nlohmann::json given,
                                                               const nlohmann::json& picked,
                                                               const FindPreset& find);

}  // namespace reliant::workflow
