// `reliant trigger …`: a user's triggers from the command line (trigger_commands.cc).
#pragma once

#include <CLI/CLI.hpp>

#include "app/api_client.h"

namespace reliant {

void add_trigger_commands(CLI::App& app, int& exit_code);

}  // namespace reliant
