// What a run waits for a person to do, as the CLI shows it: `reliant run follow` and
// `reliant chat` (in manual mode) print each waiting node with the command that answers it.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "app/api_client.h"

namespace reliant {

// "  waiting KEY (TYPE): TITLE\n    → reliant run approve|deny RUN --node KEY" for a
// node_waiting event of GET /api/v1/runs/{id}/events (unsanitized: the caller strips it).
std::string waiting_node_line(const std::string& run_id, const nlohmann::json& event);

// Asks the run's events until a node waits that `shown` does not hold, for at most `patience_ms`;
// prints it (and any other new one), adds them to `shown`. False when none came.
bool print_new_waiting_nodes(const ApiClient& client, const std::string& run_id,
                             std::set<std::string>& shown, std::int64_t patience_ms);

}  // namespace reliant
