// `reliant provider-key list|set|delete`: the signed-in user's own model provider keys, kept
// sealed in their settings on the server (services/storage/provider_keys.h).
#pragma once

#include <CLI/CLI.hpp>

namespace reliant {

void add_provider_key_commands(CLI::App& app, int& exit_code);

}  // namespace reliant
