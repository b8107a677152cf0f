// `reliant db migrate status|up` and `reliant admin user|token …`: the operator's commands.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

// Adds the `db` and `admin` command trees to `app`. Each command sets `exit_code`.
void add_admin_commands(CLI::App& app, int& exit_code);

}  // namespace reliant
