// `reliant run list|show|follow|cancel|approve|deny|answer`: workflow runs on the server, read,
// followed and answered over REST. Their old names under `reliant workflow` (show, follow,
// cancel, approve, deny, answer; `runs` for the list, since `workflow list` lists workflows)
// stay as deprecated aliases that say so on stderr.
#pragma once

#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "app/api_client.h"

namespace reliant {

// Prints the run's node updates as they come (polling its events every `poll_ms`) until it
// ends: 0 when it completes, 1 when it fails or is cancelled or the server refuses, 2 when the
// server cannot be reached.
int follow_run(const ApiClient& client, const std::string& run_id, std::int64_t poll_ms);

// `reliant run …` on `app`, and the deprecated aliases on `workflow`.
void add_run_commands(CLI::App& app, CLI::App& workflow, int& exit_code);

}  // namespace reliant
