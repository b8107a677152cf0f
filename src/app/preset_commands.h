// `reliant preset list|show|validate|create|delete`: the presets a user sees (built-in, their
// own, a project's) through the API server, and preset files checked offline.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_preset_commands(CLI::App& app, int& exit_code);

}  // namespace reliant
