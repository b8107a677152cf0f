// SimPods: the simulated platform that managed daemons' pods run on — what a Kubernetes cluster
// or a machine's process table is to the real provisioners. It outlives the control plane that
// drives it (a crashed control plane's request that reached the platform still happens): a pod
// the control plane stops or removes is held down (no fault restart or heal starts it), and
// one it starts comes up after a delay, or, until the faults heal, may fail to — or come up and
// exit on its own a while later, held down until the control plane starts it again.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "core/provisioner.h"
#include "sim/process.h"
#include "sim/world.h"

namespace reliant::sim {

struct SimPodOptions {
  Duration start_delay_min = milliseconds(200);
  Duration start_delay_max = seconds(2);
  double start_failure_share = 0;  // of starts, until the faults heal
  double exit_share = 0;           // of pods up, until the faults heal: they exit after a while
  Duration exit_after_min = seconds(10);
  Duration exit_after_max = seconds(30);
};

class SimPods {
 public:
  // What the platform did to one pod, as the checkers read it.
  enum class Phase { provisioned, starting, failed, exited, stopped, removed };
  struct Pod {
    SimProcess* process = nullptr;  // the daemon's node; attached once the topology is built
    std::string address;            // where it listens
    std::string dial_key;           // its process's, from the deployment that started it
    Phase phase = Phase::provisioned;
    std::uint64_t generation = 0;  // a start scheduled for an older generation is void
    Instant changed{};             // when the phase last changed (world time)
  };

  SimPods(World& world, Random random, SimPodOptions options, std::function<bool()> healed);

  // A pod of the scenario: provisioned and running from the start, or stopped (suspended), by
  // an earlier control plane that gave it `dial_key`.
  void add(const std::string& daemon_id, std::string address, std::string dial_key, bool stopped);
  void attach(const std::string& daemon_id, SimProcess& process);

  // The platform's operations (core/provisioner.h's contract).
  ProvisionedDaemon observe(const std::string& daemon_id) const;
  ProvisionedDaemon start(const std::string& daemon_id, const std::string& dial_key);
  void stop(const std::string& daemon_id);
  void remove(const std::string& daemon_id);

  const Pod* find(const std::string& daemon_id) const;
  // Held down by the platform: stopped, removed, failed or not yet up (its phase is not
  // `provisioned`).
  bool held(const std::string& daemon_id) const;
  std::uint64_t starts() const { return starts_; }
  std::uint64_t start_failures() const { return start_failures_; }
  std::uint64_t stops() const { return stops_; }
  std::uint64_t exits() const { return exits_; }

 private:
  void set_phase(Pod& pod, Phase phase);
  void hold_down(const std::string& daemon_id, Phase phase);  // stopped or removed
  void come_up(const std::string& daemon_id, std::uint64_t generation);
  // Draws whether the pod, up now, exits on its own later (until the faults heal).
  void maybe_exit_later(const std::string& daemon_id, const Pod& pod);
  void exit_now(const std::string& daemon_id, std::uint64_t generation);

  World& world_;
  Random random_;
  SimPodOptions options_;
  std::function<bool()> healed_;
  std::map<std::string, Pod> pods_;
  std::uint64_t starts_ = 0;
  std::uint64_t start_failures_ = 0;
  std::uint64_t stops_ = 0;
  std::uint64_t exits_ = 0;
};

}  // namespace reliant::sim
