// `reliant workflow …`: the workflow language (validate, scenario), runs started on the server
// (`workflow run`, `workflow list`), the engine's own runs in the database (`workflow engine
// start|show|signal|cancel`, for operators), and `reliant run …` for the server's runs.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_workflow_commands(CLI::App& app, int& exit_code);

}  // namespace reliant
