// LocalProvisioner: the `local` platform of managed daemons (seed 004). Each daemon is a
// supervised `reliant daemon start --managed` process on the control plane's machine, in its own
// folder (ROOT/ID: home/ for its files, workspace/ for its tools, daemon.log), its own session
// and process group, listening on a loopback port of its own for the gateway to dial. Its
// pid and port are kept in the folder, so that a restarted control plane finds the daemons an
// earlier run started instead of starting them twice.
//
// Images: a container runtime would run `code.image` the same way, but no runtime works on the
// machines this is built and tested on (crun lacks CAP_SYS_RESOURCE there), so an image is
// refused in preflight with that reason and the process path is the one tested.
#pragma once

#include <map>
#include <string>

#include <sys/types.h>

#include "adapters/asio/asio_executor.h"
#include "core/provisioner.h"

namespace reliant {

struct LocalProvisionerOptions {
  std::string root_dir;                    // one folder per daemon below it
  std::string binary;                      // the daemon's binary; empty: this process's own
  std::string bind_address = "127.0.0.1";  // where daemons listen for the gateway
  Duration stop_grace = seconds(5);        // SIGTERM, then SIGKILL after this
};

class LocalProvisioner final : public Provisioner {
 public:
  LocalProvisioner(AsioExecutor& executor, LocalProvisionerOptions options);
  ~LocalProvisioner() override;  // leaves its daemons running: they outlive a control plane

  DaemonPlatform platform() const override { return DaemonPlatform::local; }
  Result<void> preflight(const ManagedDaemonSpec& spec) const override;
  Task<Result<ProvisionedDaemon>> observe(std::string daemon_id) override;
  Task<Result<ProvisionedDaemon>> start(DaemonDeployment deployment) override;
  Task<Result<void>> stop(std::string daemon_id) override;
  Task<Result<void>> remove(std::string daemon_id) override;

 private:
  std::string folder(const std::string& daemon_id) const;
  ProvisionedDaemon seen(const std::string& daemon_id);
  Result<ProvisionedDaemon> spawn(const DaemonDeployment& deployment);

  AsioExecutor& executor_;
  LocalProvisionerOptions options_;
  std::map<std::string, pid_t> children_;  // started by this process: reaped with waitpid
};

}  // namespace reliant
