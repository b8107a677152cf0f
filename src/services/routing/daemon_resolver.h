// Resolves which daemon a tool call goes to: the user's daemons as the store records them, run
// through the selection cascade of core/daemon_selection (spec S0.16). The step after "connected
// daemons" asks the control plane, which does not exist yet; the cascade then falls back to
// the database.
#pragma once

#include <optional>
#include <string>

#include "core/daemon_selection.h"
#include "runtime/store.h"
#include "runtime/task.h"

namespace reliant::routing {

struct DaemonChoice {
  std::optional<SelectorSource> node;            // a workflow node's `daemon:` field
  std::optional<SelectorSource> workflow;        // the workflow's `daemon:` field
  std::optional<std::string> session_daemon_id;  // the chat's active_daemon_id
};

Task<Result<DaemonDecision>> resolve_daemon(Store& store, std::string user_id, DaemonChoice choice);

}  // namespace reliant::routing
