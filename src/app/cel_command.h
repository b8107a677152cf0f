// `reliant cel eval`: evaluates one CEL expression, as workflows will, and prints its value.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_cel_commands(CLI::App& app, int& exit_code);

}  // namespace reliant
