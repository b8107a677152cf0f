// The control plane's rounds (control_plane.h): lease the managed daemons, observe each through
// its platform's provisioner, act on decide_round's answer, record what was seen.
#include "services/control_plane/control_plane.h"

#include <algorithm>
#include <optional>

#include "core/managed_dial_key.h"
#include "core/queued_command.h"
#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/future.h"
#include "runtime/sleep.h"
#include "services/storage/cluster_secrets.h"
#include "services/storage/daemon_commands.h"
#include "services/storage/projects.h"

namespace reliant::control_plane {

ControlPlane::ControlPlane(Env& env, SecretSource& secrets, std::vector<Provisioner*> provisioners,
                           ControlPlaneConfig config)
    : env_(env), secrets_(secrets), config_(std::move(config)), scope_(env.executor) {
  RELIANT_ASSERT(config_.interval > Duration::zero());
  RELIANT_ASSERT(config_.lease > config_.interval);  // a live replica renews before it runs out
  RELIANT_ASSERT(!config_.replica_id.empty());
  RELIANT_ASSERT(config_.daemons_per_round_max > 0);
  for (Provisioner* p : provisioners) {
    RELIANT_ASSERT(p != nullptr);
    provisioners_[p->platform()] = p;
  }
  if (env_.bus != nullptr) {
    auto subscribed = env_.bus->subscribe(subjects::kControlPlaneWake,
                                          [this](const BusMessage&) { wakeup_.wake(); });
    // Without it, rounds still come each interval.
    if (subscribed) wake_subscription_ = std::move(*subscribed);
  }
  scope_.spawn(loop());
}

Task<void> ControlPlane::loop() {
  for (;;) {
    // The interval, or less when woken: a burst of wake-ups is one round.
    Task<void> waiting = wakeup_.wait(config_.interval);
    co_await waiting;
    wakeup_.clear();
    Task<void> rounding = round();
    co_await rounding;
  }
}

Task<void> ControlPlane::round() {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  // Until this replica knows the dial secret, each round asks for it with its lease, offering a
  // new one for the store to keep if no replica has yet.
  const std::string drawn = dial_secret_.empty() ? draw_dial_secret(secrets_) : std::string();
  struct Leased {
    std::vector<ManagedDaemonRecord> rows;
    std::string dial_secret;
  };
  Task<Result<Leased>> leasing = env_.store->transact_for(
      [owner = config_.replica_id, now_ms, until_ms = now_ms + to_ms(config_.lease),
       limit = config_.daemons_per_round_max, drawn](SqlTransaction& tx) -> Result<Leased> {
        Leased leased;
        if (!drawn.empty()) {
          auto secret = cluster_secret(tx, std::string(kDialSecretName), drawn, now_ms);
          if (!secret) return fail(secret.error());
          leased.dial_secret = std::move(*secret);
        }
        auto rows = lease_managed_daemons(tx, owner, now_ms, until_ms, limit);
        if (!rows) return fail(rows.error());
        leased.rows = std::move(*rows);
        return leased;
      });
  Result<Leased> leased = co_await leasing;
  if (!leased) {
    ++stats_.store_failures;
    co_return;
  }
  ++stats_.rounds;
  if (!leased->dial_secret.empty()) dial_secret_ = std::move(leased->dial_secret);
  // Each daemon on its own: one slow provider call holds up neither the others nor the next
  // round, which skips a daemon still being acted on.
  for (auto& row : leased->rows) {
    if (!acting_.insert(row.id).second) continue;
    scope_.spawn(act_once(std::move(row)));
  }
}

Task<void> ControlPlane::act_once(ManagedDaemonRecord row) {
  const std::string id = row.id;
  Task<void> acting = act(std::move(row));
  co_await acting;
  acting_.erase(id);
}

ObservedUpdate ControlPlane::keep(const ManagedDaemonRecord& row) const {
  ObservedUpdate same;
  same.observed = row.observed;
  same.address = row.address;
  same.restarts = row.restarts;
  same.next_attempt_at_ms = row.next_attempt_at_ms;
  same.last_error = row.last_error;
  return same;
}

ObservedUpdate ControlPlane::backed_off(const ManagedDaemonRecord& row, ObservedState state,
                                        std::string error) const {
  ObservedUpdate update = keep(row);
  update.observed = state;
  update.restarts = row.restarts + 1;
  update.next_attempt_at_ms = to_ms(env_.executor.now() + restart_delay(row.restarts));
  update.last_error = std::move(error);
  return update;
}

Task<bool> ControlPlane::record(const ManagedDaemonRecord& row, ObservedUpdate update) {
  Task<Result<bool>> writing =
      env_.store->transact_for([id = row.id, owner = config_.replica_id, update = std::move(update),
                                now_ms = to_ms(env_.executor.now())](SqlTransaction& tx) {
        return record_observed(tx, id, owner, update, now_ms);
      });
  Result<bool> written = co_await writing;
  if (!written) ++stats_.store_failures;
  co_return written&&* written;
}

void ControlPlane::publish_connect(const ManagedDaemonRecord& row, const std::string& address) {
  if (address.empty()) return;
  RELIANT_ASSERT(!dial_secret_.empty());
  // A dial and its registration take a moment; asking again meanwhile would have a second
  // gateway stream replace the first (the daemon keeps its newest).
  const SteadyInstant now = env_.executor.steady_now();
  if (const auto last = dialled_.find(row.id);
      last != dialled_.end() && now - last->second < config_.dial_grace) {
    return;
  }
  if (dialled_.size() >= kDialsRememberedMax) dialled_.clear();  // a bound; forgetting is safe
  dialled_[row.id] = now;
  daemon::v1::ManagedConnect connect;
  connect.set_daemon_id(row.id);
  connect.set_user_id(row.user_id);
  connect.set_address(address);
  connect.set_name(row.spec.name);
  connect.set_dial_key(managed_dial_key(dial_secret_, row.id));
  if (env_.bus->publish(subjects::kGatewayConnect, protocol::to_json(connect))) {
    ++stats_.dials_requested;
  }
}

Task<void> ControlPlane::start(const ManagedDaemonRecord& row, Provisioner& provisioner) {
  RELIANT_ASSERT(!dial_secret_.empty());  // read with the lease of the round that got here
  DaemonDeployment deployment;
  deployment.daemon_id = row.id;
  deployment.user_id = row.user_id;
  deployment.spec = row.spec;
  deployment.dial_key = managed_dial_key(dial_secret_, row.id);
  std::string token_hash;
  if (row.spec.commands_enabled && !config_.commands_url.empty()) {
    // A new token for each start, so that a token an earlier start handed out stops working.
    std::array<std::uint8_t, kCommandTokenRandomBytes> bytes{};
    secrets_.fill(bytes.data(), bytes.size());
    deployment.commands_url = config_.commands_url;
    deployment.commands_ca_file = config_.commands_ca_file;
    deployment.commands_token = format_command_token(row.id, bytes);
    token_hash = hash_command_token(deployment.commands_token);
  }
  const bool links_projects =
      std::any_of(row.spec.links.begin(), row.spec.links.end(),
                  [](const std::string& link) { return !link_is_path(link); });
  if (links_projects || !token_hash.empty()) {
    // What the start needs of the store, in one transaction: the folders its projects and
    // worktrees have now (one may have been deleted), and its token's hash, stored before the
    // daemon can poll with the token.
    Task<Result<std::vector<std::string>>> preparing = env_.store->transact_for(
        [user_id = row.user_id, id = row.id, links = row.spec.links,
         token_hash](SqlTransaction& tx) -> Result<std::vector<std::string>> {
          std::vector<std::string> paths;
          for (const std::string& link : links) {
            if (link_is_path(link)) continue;
            auto path = project_or_worktree_path(tx, user_id, link);
            if (!path && (path.error().code == ErrorCode::not_found ||
                          path.error().code == ErrorCode::failed_precondition)) {
              return fail(ErrorCode::failed_precondition, "link: " + path.error().message);
            }
            if (!path) return fail(path.error());
            paths.push_back(std::move(*path));
          }
          if (!token_hash.empty()) {
            if (auto stored = set_commands_token_hash(tx, id, token_hash); !stored)
              return fail(stored.error());
          }
          return paths;
        });
    Result<std::vector<std::string>> paths = co_await preparing;
    if (!paths && paths.error().code != ErrorCode::failed_precondition) {
      ++stats_.store_failures;
      co_return;  // the next round tries again
    }
    if (!paths) {
      Task<void> recording = started(row, fail(paths.error()));  // a link that leads nowhere
      co_await recording;
      co_return;
    }
    deployment.linked_paths = std::move(*paths);
  }
  Task<Result<ProvisionedDaemon>> starting = provisioner.start(std::move(deployment));
  Result<ProvisionedDaemon> start = co_await starting;
  if (start && row.spec.commands_enabled && config_.commands_url.empty()) {
    log_line(env_, LogLevel::warn, [&] {
      return "managed daemon " + row.spec.name + " (" + row.id +
             ") started without commands: this control plane knows no api URL for it to poll "
             "(--commands-url)";
    });
  }
  Task<void> recording = started(row, std::move(start));
  co_await recording;
}

Task<void> ControlPlane::started(const ManagedDaemonRecord& row, Result<ProvisionedDaemon> start) {
  if (!start) {
    ++stats_.start_failures;
    Task<bool> writing = record(row, backed_off(row, ObservedState::failed, start.error().message));
    co_await writing;
    co_return;
  }
  ++stats_.starts;
  ObservedUpdate update = keep(row);
  update.observed = ObservedState::running;
  update.address = start->address;
  update.last_error.clear();
  Task<bool> writing = record(row, update);
  // Dialled once it is recorded running: a lost lease means another replica has it now.
  if (co_await writing && start->presence == PodState::running)
    publish_connect(row, start->address);
}

Task<void> ControlPlane::act(ManagedDaemonRecord row) {
  const auto found = provisioners_.find(row.spec.platform);
  if (found == provisioners_.end()) {
    std::vector<DaemonPlatform> served;
    for (const auto& [platform, provisioner] : provisioners_) served.push_back(platform);
    const std::string why = preflight_platform(row.spec.platform, served).error().message;
    if (row.observed != ObservedState::failed || row.last_error != why) {
      Task<bool> writing = record(row, backed_off(row, ObservedState::failed, why));
      co_await writing;
    }
    co_return;
  }
  Provisioner& provisioner = *found->second;
  Task<Result<ProvisionedDaemon>> observing = provisioner.observe(row.id);
  Result<ProvisionedDaemon> seen = co_await observing;
  if (!seen) {
    ++stats_.provider_failures;
    co_return;  // asked again next round
  }
  DaemonRound input;
  input.desired = row.desired;
  input.observed = row.observed;
  input.presence = seen->presence;
  input.always_on = row.spec.always_on;
  input.connected = row.status == DaemonStatus::active || row.status == DaemonStatus::idle;
  input.now_ms = to_ms(env_.executor.now());
  input.last_activity_at_ms = row.active_at_ms;
  input.requests_wait_until_ms = row.requests_wait_until_ms;
  input.next_attempt_at_ms = row.next_attempt_at_ms;
  input.suspend_after = config_.suspend_after;
  Task<void> doing = carry_out(decide_round(input), row, *seen, input.connected, provisioner);
  co_await doing;
}

Task<void> ControlPlane::carry_out(RoundAction action, const ManagedDaemonRecord& row,
                                   const ProvisionedDaemon& seen, bool connected,
                                   Provisioner& provisioner) {
  switch (action) {
    case RoundAction::none:
    case RoundAction::connect: {
      // Running (held, or to be dialled) or on its way: what was seen is recorded when it
      // changed, and a daemon that connected starts its backoff over.
      if (action == RoundAction::connect) {
        publish_connect(row, seen.address.empty() ? row.address : seen.address);
      }
      ObservedUpdate update = keep(row);
      if (seen.presence == PodState::running) update.observed = ObservedState::running;
      if (connected) update.restarts = 0;
      if (update.observed != row.observed || update.restarts != row.restarts) {
        Task<bool> writing = record(row, update);
        co_await writing;
      }
      co_return;
    }
    case RoundAction::wait:
      co_return;
    case RoundAction::note_exit: {
      ++stats_.exits_seen;
      Task<bool> writing =
          record(row, backed_off(row, ObservedState::exited,
                                 seen.detail.empty() ? "it exited" : "it exited: " + seen.detail));
      co_await writing;
      co_return;
    }
    case RoundAction::start: {
      Task<void> starting = start(row, provisioner);
      co_await starting;
      co_return;
    }
    case RoundAction::suspend_idle:
    case RoundAction::suspend: {
      Task<void> stopping = suspend(row, provisioner, action == RoundAction::suspend_idle);
      co_await stopping;
      co_return;
    }
    case RoundAction::remove: {
      Task<void> removing = remove(row, provisioner);
      co_await removing;
      co_return;
    }
  }
}

Task<void> ControlPlane::suspend(const ManagedDaemonRecord& row, Provisioner& provisioner,
                                 bool idle) {
  if (idle) {
    // The wish first, and only if nothing used it since: then nobody restarts what is being
    // stopped, and a resume or a call that came meanwhile wins.
    ObservedUpdate wish = keep(row);
    wish.desired = DesiredState::suspended;
    wish.active_at_ms = row.active_at_ms;
    Task<bool> wishing = record(row, wish);
    if (!co_await wishing) co_return;
    ++stats_.idle_suspensions;
  }
  Task<Result<void>> stopping = provisioner.stop(row.id);
  Result<void> stopped = co_await stopping;
  if (!stopped) {
    ++stats_.provider_failures;
    co_return;
  }
  ++stats_.suspensions;
  ObservedUpdate update = keep(row);
  update.observed = ObservedState::suspended;
  update.restarts = 0;
  update.next_attempt_at_ms = 0;
  Task<bool> writing = record(row, update);
  co_await writing;
}

Task<void> ControlPlane::remove(const ManagedDaemonRecord& row, Provisioner& provisioner) {
  Task<Result<void>> removing = provisioner.remove(row.id);
  Result<void> removed = co_await removing;
  if (!removed) {
    ++stats_.provider_failures;
    co_return;
  }
  Task<Result<bool>> deleting =
      env_.store->transact_for([id = row.id, owner = config_.replica_id](SqlTransaction& tx) {
        return delete_managed_daemon(tx, id, owner);
      });
  Result<bool> deleted = co_await deleting;
  if (!deleted) ++stats_.store_failures;
  if (deleted && *deleted) ++stats_.removals;
}

}  // namespace reliant::control_plane
