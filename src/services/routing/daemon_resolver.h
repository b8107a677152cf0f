// Resolves which daemon a tool call goes to: the user's daemons as the store records them, run
// through the selection cascade of core/daemon_selection (spec S0.16). The step after "connected
// daemons" asks the control plane: the user's oldest suspended managed daemon, which the call
// then wakes (BusDaemonRouter); without one, the cascade falls back to the database.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/daemon_selection.h"
#include "runtime/store.h"
#include "runtime/task.h"
#include "services/storage/daemons.h"

namespace reliant::routing {

struct DaemonChoice {
  std::optional<SelectorSource> node;            // a workflow node's `daemon:` field
  std::optional<SelectorSource> workflow;        // the workflow's `daemon:` field
  std::optional<std::string> session_daemon_id;  // the chat's active_daemon_id
};

// With `online` set, a daemon the default cascade picks because its row says it is connected is
// asked about first (DaemonRouter::is_online: the gateway holding it answers): a row can be
// stale — its gateway died before it could write the disconnect — and another daemon that is
// online is then taken instead (among the best eight connected ones: the default cascade and a
// session daemon read only the rows they need, not the user's whole fleet). When none of them
// answers, the rows are trusted (a durable request waits for the daemon to come back). Explicit
// choices (node, workflow, session) are the caller's and are not second-guessed.
class DaemonRouter;
// A stored daemon as selection sees it.
DaemonCandidate candidate_from(const DaemonRecord& daemon);
Task<Result<DaemonDecision>> resolve_daemon(Store& store, std::string user_id, DaemonChoice choice,
                                            DaemonRouter* online = nullptr);
// The same among rows the caller read (list_daemons), e.g. in the transaction that also read
// the chat's session daemon: one round trip instead of two.
Task<Result<DaemonDecision>> resolve_daemon_among(std::vector<DaemonRecord> rows,
                                                  std::string user_id, DaemonChoice choice,
                                                  DaemonRouter* online = nullptr);

}  // namespace reliant::routing
