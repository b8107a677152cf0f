// `reliant workflow run FILE|builtin://NAME|NAME --project ID [--input k=v…|--inputs JSON]
// [--follow]`, `reliant workflow follow RUN`, and `reliant workflow approve|deny RUN` /
// `answer RUN VALUE`: workflow-language runs started, followed node by node and answered
// through the API server.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_workflow_run_commands(CLI::App& workflow, int& exit_code);

}  // namespace reliant
