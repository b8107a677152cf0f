// ManagedDaemonService: what a user may do with managed daemons — create, read, update, delete,
// suspend, resume — as the api role serves it over gRPC (DaemonService) and REST
// (/api/v1/daemons). It validates, writes the user's wish in the store and wakes the control
// plane (controlplane.wake); the control plane's rounds carry the wish out. Messages are the
// API's own (reliant.api.v1), so gRPC and REST share every rule.
#pragma once

#include <string>
#include <vector>

#include "core/managed_daemon.h"
#include "reliant/api/v1/api.pb.h"
#include "runtime/env.h"
#include "runtime/ids.h"
#include "services/storage/daemons.h"
#include "services/storage/managed_daemons.h"

namespace reliant::control_plane {

struct ManagedDaemonServiceConfig {
  // What preflight accepts; the control plane records a daemon failed when it has no
  // provisioner for its platform after all.
  std::vector<DaemonPlatform> platforms = {DaemonPlatform::local, DaemonPlatform::kubernetes};
  // Set: only this user may create daemons on the local platform. The monolith's local
  // daemons run as its own OS user, with its files in reach, so — like its embedded daemon —
  // they serve its local account only.
  std::string local_platform_user;
  // A user's managed daemons at most, deleted ones aside: each is a process or a pod the
  // platform runs for them, so one user cannot take the machine or the cluster (--managed-daemons-
  // per-user). 0: no limit.
  std::int64_t per_user_max = 20;
};

class ManagedDaemonService {
 public:
  explicit ManagedDaemonService(Env& env, ManagedDaemonServiceConfig config = {});

  Task<Result<api::v1::Daemon>> create(std::string user_id, api::v1::ManagedDaemonSpec spec);
  // Every daemon of the user's, oldest first, managed ones with their state.
  Task<Result<api::v1::ListDaemonsResponse>> list(std::string user_id);
  // Any of the user's daemons, by id or name; a managed one with its state.
  Task<Result<api::v1::Daemon>> get(std::string user_id, std::string daemon);
  Task<Result<api::v1::Daemon>> update(std::string user_id, std::string daemon,
                                       api::v1::ManagedDaemonSpec spec);
  Task<Result<api::v1::Daemon>> set_desired(std::string user_id, std::string daemon,
                                            DesiredState desired);

 private:
  void wake();

  Env& env_;
  ManagedDaemonServiceConfig config_;
  IdGenerator ids_;
};

// The user's managed daemon `daemon` (an id or a name) for an action (`what`: "suspended",
// "sent commands"…): not_found when the user has no such daemon, failed_precondition saying so
// when it is a daemon its user runs rather than a managed one.
Result<ManagedDaemonRecord> managed_of(SqlTransaction& tx, const std::string& user_id,
                                       const std::string& daemon, std::string_view what);

// The spec in the form core's parser checks (one set of rules for every way in).
nlohmann::json spec_json(const api::v1::ManagedDaemonSpec& spec);
void to_proto(const DaemonRecord& daemon, api::v1::Daemon& out);
void to_proto(const ManagedDaemonRecord& managed, api::v1::ManagedDaemonState& out);

}  // namespace reliant::control_plane
