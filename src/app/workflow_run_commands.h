// `reliant workflow run FILE|builtin://NAME|NAME --project ID [--input k=v…|--inputs JSON]
// [--follow]` starts a workflow-language run on the server (`reliant run …` then follows and
// answers it); `reliant workflow list [--project ID]` lists the workflows there is to run: the
// built-ins and a project's.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

// `workflow run` and `workflow list` on `workflow`; `reliant run …` on `app`, with its
// deprecated aliases on `workflow` (run_commands.h).
void add_workflow_run_commands(CLI::App& app, CLI::App& workflow, int& exit_code);

}  // namespace reliant
