// `reliant workflow validate FILE…` and `reliant workflow scenario run --workflow FILE
// SCENARIO_FILE…`: the workflow language checked and tested from the command line.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "base/result.h"

namespace reliant {

// A workflow's YAML: a file's text (at most kWorkflowBytesMax), or the built-in builtin://NAME
// names. The error says which and why, prefixed with the name.
Result<std::string> read_workflow_source(const std::string& name);

void add_workflow_language_commands(CLI::App& workflow, int& exit_code);

}  // namespace reliant
