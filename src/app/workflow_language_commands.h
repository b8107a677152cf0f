// `reliant workflow validate FILE…` and `reliant workflow scenario run --workflow FILE
// SCENARIO_FILE…`: the workflow language checked and tested from the command line.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_workflow_language_commands(CLI::App& workflow, int& exit_code);

}  // namespace reliant
