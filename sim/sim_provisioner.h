// The simulator's provisioner, for now over the scenario's managed daemon nodes: the pods
// exist from the start and the fault plan crashes and restarts them; the provisioner reports
// what runs and where it listens. Starting a stopped pod is left to the scenario's restarts
// (it reports it starting), and stopping one is not simulated yet.
#pragma once

#include <functional>
#include <string>

#include "core/provisioner.h"
#include "runtime/executor.h"

namespace reliant::sim {

class SimProvisioner final : public Provisioner {
 public:
  // Whether the daemon's node runs, and its address; nullopt: no such pod.
  struct Pod {
    bool running = false;
    std::string address;
  };
  using Lookup = std::function<std::optional<Pod>(const std::string& daemon_id)>;

  explicit SimProvisioner(Lookup lookup) : lookup_(std::move(lookup)) {}

  DaemonPlatform platform() const override { return DaemonPlatform::local; }
  Result<void> preflight(const ManagedDaemonSpec&) const override { return {}; }
  Task<Result<ProvisionedDaemon>> observe(std::string daemon_id) override {
    co_return seen(daemon_id);
  }
  Task<Result<ProvisionedDaemon>> start(DaemonDeployment deployment) override {
    ProvisionedDaemon pod = seen(deployment.daemon_id);
    if (pod.presence != PodState::running) pod.presence = PodState::starting;
    co_return pod;
  }
  Task<Result<void>> stop(std::string) override {
    co_return fail(ErrorCode::unimplemented, "the simulator does not stop pods yet");
  }
  Task<Result<void>> remove(std::string) override {
    co_return fail(ErrorCode::unimplemented, "the simulator does not remove pods yet");
  }

 private:
  ProvisionedDaemon seen(const std::string& daemon_id) const {
    ProvisionedDaemon out;
    if (const auto pod = lookup_(daemon_id)) {
      out.presence = pod->running ? PodState::running : PodState::exited;
      out.address = pod->address;
    }
    return out;
  }

  Lookup lookup_;
};

}  // namespace reliant::sim
