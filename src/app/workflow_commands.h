// `reliant workflow start|show|signal|cancel`: drive durable runs from the command line.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_workflow_commands(CLI::App& app, int& exit_code);

}  // namespace reliant
