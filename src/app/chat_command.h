// `reliant chat "message"`: sends a message to a chat through the REST API and streams the
// agent's answer and its tool activity to the terminal as they happen.
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_chat_command(CLI::App& app, int& exit_code);

}  // namespace reliant
