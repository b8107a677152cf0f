// The control plane's round (control_plane.h): read the managed daemons' rows, ask the gateways
// to dial each one that is not active.
#include "services/control_plane/control_plane.h"

#include "core/tool_subjects.h"
#include "protocol/codec.h"
#include "reliant/daemon/v1/daemon.pb.h"
#include "runtime/sleep.h"
#include "services/storage/daemons.h"

namespace reliant::control_plane {

ControlPlane::ControlPlane(Env& env, Fleet fleet, ControlPlaneConfig config)
    : env_(env), fleet_(std::move(fleet)), config_(config), scope_(env.executor) {
  RELIANT_ASSERT(config_.interval > Duration::zero());
  scope_.spawn(loop());
}

Task<void> ControlPlane::loop() {
  for (;;) {
    co_await sleep(env_.executor, config_.interval);
    Task<void> checking = check();
    co_await checking;
  }
}

Task<void> ControlPlane::check() {
  std::vector<ManagedDaemon> fleet = fleet_();
  if (fleet.empty()) co_return;
  std::vector<std::string> ids;
  for (const auto& daemon : fleet) ids.push_back(daemon.daemon_id);
  // Which of them are recorded active, in one round trip.
  Task<Result<std::vector<bool>>> reading =
      env_.store->transact_for([ids](SqlTransaction& tx) -> Result<std::vector<bool>> {
        std::vector<bool> active;
        for (const auto& id : ids) {
          auto row = find_daemon(tx, id);
          if (!row) return fail(row.error());
          active.push_back(*row && (*row)->status == DaemonStatus::active);
        }
        return active;
      });
  Result<std::vector<bool>> active = co_await reading;
  ++stats_.checks;
  if (!active) {
    ++stats_.store_failures;
    co_return;
  }
  for (std::size_t i = 0; i < fleet.size(); ++i) {
    if ((*active)[i]) continue;
    daemon::v1::ManagedConnect connect;
    connect.set_daemon_id(fleet[i].daemon_id);
    connect.set_user_id(fleet[i].user_id);
    connect.set_address(fleet[i].address);
    if (env_.bus->publish(subjects::kGatewayConnect, protocol::to_json(connect))) {
      ++stats_.dials_requested;
    }
  }
}

}  // namespace reliant::control_plane
