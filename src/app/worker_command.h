// `reliant server worker`: runs the durable engine's worker against SQLite or Postgres.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_worker_command(CLI::App& server, int& exit_code);

}  // namespace reliant
