// `reliant monolith`: every role in one process (spec S2.2) — SQLite, the engine's worker, an
// in-process bus and update hub, the REST API, and the tools daemon started lazily per user.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_monolith_command(CLI::App& app, int& exit_code);

}  // namespace reliant
