// Daemon resolution against the store's records.
#include "services/routing/daemon_resolver.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "services/routing/daemon_router.h"
#include "services/storage/daemons.h"

namespace reliant::routing {
namespace {

// How many connected daemons the default cascade considers: the best one, and those it falls
// back to when the gateways say the best is offline after all.
constexpr std::size_t kConnectedCandidatesMax = 8;

std::optional<std::string> wakeable_daemon(const std::vector<DaemonCandidate>& candidates,
                                           const std::string& user_id) {
  const DaemonCandidate* oldest = nullptr;
  for (const auto& c : candidates) {
    if (c.user_id != user_id || c.status != DaemonStatus::suspended) continue;
    if (oldest == nullptr || c.created_at_ms < oldest->created_at_ms ||
        (c.created_at_ms == oldest->created_at_ms && c.id < oldest->id)) {
      oldest = &c;
    }
  }
  return oldest != nullptr ? std::optional<std::string>(oldest->id) : std::nullopt;
}

}  // namespace

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

namespace {

std::vector<DaemonCandidate> candidates_from(const std::vector<DaemonRecord>& rows) {
  std::vector<DaemonCandidate> candidates;
  candidates.reserve(rows.size());
  for (const auto& row : rows) candidates.push_back(candidate_from(row));
  return candidates;
}

Task<Result<DaemonDecision>> resolve_among_candidates(std::vector<DaemonCandidate> candidates,
                                                      std::string user_id, DaemonChoice choice,
                                                      DaemonRouter* online) {
  SelectionRequest request;
  request.user_id = user_id;
  request.node_selector = std::move(choice.node);
  request.workflow_selector = std::move(choice.workflow);
  request.session_daemon_id = std::move(choice.session_daemon_id);
  // Step 2 of the default cascade: the control plane manages the user's suspended daemons, and
  // a call routed to one resumes it (BusDaemonRouter::store_request).
  request.control_plane_configured =
      std::any_of(candidates.begin(), candidates.end(), [&](const DaemonCandidate& c) {
        return c.user_id == user_id && c.status == DaemonStatus::suspended;
      });
  auto step = select_daemon(request, candidates);
  if (!step) co_return fail(step.error());
  if (const auto* decision = std::get_if<DaemonDecision>(&*step)) {
    if (online == nullptr || decision->level != SelectionLevel::connected) co_return *decision;
    // Rows say connected; the gateways say who really is. Each offline one is set aside and the
    // cascade asked again, at most once per daemon.
    const DaemonDecision first = *decision;
    DaemonDecision current = first;
    for (std::size_t asked = 0; asked < candidates.size(); ++asked) {
      Task<Result<bool>> asking = online->is_online(user_id, current.daemon_id);
      Result<bool> is_online = co_await asking;
      if (!is_online || *is_online) co_return current;  // online, or no way to tell: trust it
      for (auto& candidate : candidates) {
        if (candidate.id == current.daemon_id) candidate.status = DaemonStatus::disconnected;
      }
      auto next = select_daemon(request, candidates);
      const auto* again = next ? std::get_if<DaemonDecision>(&*next) : nullptr;
      if (again == nullptr || again->level != SelectionLevel::connected) co_return first;
      current = *again;
    }
    co_return first;
  }
  // The control plane's answer, from what it keeps in the store: nothing is connected, so its
  // preferred daemon is one it can wake — the user's oldest suspended one.
  co_return finish_daemon_selection(request, candidates, wakeable_daemon(candidates, user_id));
}

}  // namespace

Task<Result<DaemonDecision>> resolve_daemon(Store& store, std::string user_id, DaemonChoice choice,
                                            DaemonRouter* online) {
  // Most calls need a few rows, not the user's whole fleet: the session daemon's own row, or the
  // best connected daemons (daemons_connected holds them in order). Selectors, which may match
  // any daemon, and the database fallback, when none is connected, read them all.
  const bool no_selector = !choice.node && !choice.workflow;
  std::optional<std::string> session;
  if (no_selector && choice.session_daemon_id && !choice.session_daemon_id->empty()) {
    session = choice.session_daemon_id;
  }
  const bool by_default = no_selector && !choice.session_daemon_id;
  Task<Result<std::vector<DaemonCandidate>>> reading = store.transact_for(
      [user_id, session, by_default](SqlTransaction& tx) -> Result<std::vector<DaemonCandidate>> {
        if (session) {
          auto row = find_daemon(tx, *session);
          if (!row) return fail(row.error());
          return *row ? std::vector<DaemonCandidate>{candidate_from(**row)}
                      : std::vector<DaemonCandidate>{};
        }
        if (by_default) {
          auto connected = list_connected_candidates(tx, user_id, kConnectedCandidatesMax);
          if (!connected || !connected->empty()) return connected;
        }
        auto rows = list_daemons(tx, user_id);
        if (!rows) return fail(rows.error());
        return candidates_from(*rows);
      });
  Result<std::vector<DaemonCandidate>> candidates = co_await reading;
  if (!candidates) co_return fail(candidates.error());
  Task<Result<DaemonDecision>> resolving = resolve_among_candidates(
      std::move(*candidates), std::move(user_id), std::move(choice), online);
  co_return co_await resolving;
}

Task<Result<DaemonDecision>> resolve_daemon_among(std::vector<DaemonRecord> rows,
                                                  std::string user_id, DaemonChoice choice,
                                                  DaemonRouter* online) {
  return resolve_among_candidates(candidates_from(rows), std::move(user_id), std::move(choice),
                                  online);
}

}  // namespace reliant::routing
