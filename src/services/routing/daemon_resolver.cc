// Daemon resolution against the store's records.
#include "services/routing/daemon_resolver.h"

#include <memory>
#include <vector>

#include "services/storage/daemons.h"

namespace reliant::routing {
namespace {

DaemonCandidate candidate_from(const DaemonRecord& d) {
  DaemonCandidate c;
  c.id = d.id;
  c.user_id = d.user_id;
  c.name = d.name;
  c.type = d.type;
  c.labels = d.labels;
  c.status = d.status;
  c.connected_at_ms = d.connected_at_ms.value_or(0);
  c.created_at_ms = d.created_at_ms;
  return c;
}

}  // namespace

Task<Result<DaemonDecision>> resolve_daemon(Store& store, std::string user_id,
                                            DaemonChoice choice) {
  Task<Result<std::vector<DaemonRecord>>> reading =
      store.transact_for([user_id](SqlTransaction& tx) { return list_daemons(tx, user_id); });
  Result<std::vector<DaemonRecord>> rows = co_await reading;
  if (!rows) co_return fail(rows.error());
  std::vector<DaemonCandidate> candidates;
  for (const auto& row : *rows) candidates.push_back(candidate_from(row));
  SelectionRequest request;
  request.user_id = user_id;
  request.node_selector = std::move(choice.node);
  request.workflow_selector = std::move(choice.workflow);
  request.session_daemon_id = std::move(choice.session_daemon_id);
  auto step = select_daemon(request, candidates);
  if (!step) co_return fail(step.error());
  if (const auto* decision = std::get_if<DaemonDecision>(&*step)) co_return *decision;
  // No control plane yet: its step has no answer, and the cascade goes on to the database.
  co_return finish_daemon_selection(request, candidates, std::optional<std::string>());
}

}  // namespace reliant::routing
