// The simulator's provisioner: the control plane's port onto SimPods. Each platform call acts
// at once and answers a round trip later: one the control plane does not live to see answered
// has still happened, as with a real platform's API.
#pragma once

#include <string>

#include "core/provisioner.h"
#include "runtime/env.h"
#include "runtime/sleep.h"
#include "sim/sim_pods.h"

namespace reliant::sim {

class SimProvisioner final : public Provisioner {
 public:
  SimProvisioner(Env& env, SimPods& pods) : env_(env), pods_(pods) {}

  DaemonPlatform platform() const override { return DaemonPlatform::local; }
  Result<void> preflight(const ManagedDaemonSpec&) const override { return {}; }
  Task<Result<ProvisionedDaemon>> observe(std::string daemon_id) override {
    ProvisionedDaemon seen = pods_.observe(daemon_id);
    co_await sleep(env_.executor, kCallTime);
    co_return seen;
  }
  Task<Result<ProvisionedDaemon>> start(DaemonDeployment deployment) override {
    ProvisionedDaemon seen = pods_.start(deployment.daemon_id, deployment.dial_key);
    co_await sleep(env_.executor, kCallTime);
    co_return seen;
  }
  Task<Result<void>> stop(std::string daemon_id) override {
    pods_.stop(daemon_id);
    co_await sleep(env_.executor, kCallTime);
    co_return Result<void>{};
  }
  Task<Result<void>> remove(std::string daemon_id) override {
    pods_.remove(daemon_id);
    co_await sleep(env_.executor, kCallTime);
    co_return Result<void>{};
  }

 private:
  static constexpr Duration kCallTime = milliseconds(5);

  Env& env_;
  SimPods& pods_;
};

}  // namespace reliant::sim
