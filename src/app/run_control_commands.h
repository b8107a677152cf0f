// `reliant run pause|resume|retry|skip|fail|set|mode RUN`: control of a running run from the
// command line (core/workflow/run_control.h says what each does).
#pragma once

#include <CLI/CLI.hpp>

#include "app/api_client.h"

namespace reliant {

// Adds the control commands to `reliant run`.
void add_run_control_commands(CLI::App& run, int& exit_code);

}  // namespace reliant
