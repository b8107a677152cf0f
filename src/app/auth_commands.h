// `reliant auth login|logout|status`: this machine's sign-in to an api server, kept in the
// login credentials file that `daemon register` and `daemon start` use to make the daemon's
// own token.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_auth_commands(CLI::App& app, int& exit_code);

}  // namespace reliant
