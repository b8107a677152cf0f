// ControlPlane: keeps each managed daemon the way its user wants it (spec S0.11–S0.12, seed
// 004). Every round it takes the lease of the managed daemons no live replica holds (so that
// one replica acts on each daemon at a time, and a crashed replica's daemons are taken over
// when its leases run out), and for each asks its platform's Provisioner what runs, then does
// what core/managed_daemon.h's decide_round says: start it (provisioning it the first time),
// restart it with backoff when it exited, ask the gateways to dial it (gateway.connect, a
// ManagedConnect stamped with its identity: the daemon holds no credentials), suspend it when
// idle for `suspend_after` or when its user asks, and remove it when deleted. A message on
// controlplane.wake (a create, a resume) starts a round at once.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/provisioner.h"
#include "runtime/env.h"
#include "runtime/scope.h"
#include "runtime/secret_source.h"
#include "runtime/wakeup.h"
#include "services/storage/managed_daemons.h"

namespace reliant::control_plane {

struct ControlPlaneConfig {
  std::string replica_id;                // the lease owner's name; unique per replica
  Duration interval = seconds(2);        // between rounds
  Duration lease = seconds(20);          // how long a replica's claim outlives its last round
  Duration suspend_after = minutes(30);  // idle time before suspension; zero: never
  Duration dial_grace = seconds(5);      // a daemon is asked to be dialled again after this
  std::size_t daemons_per_round_max = 256;
  // Where daemons with commands enabled poll for them (an api's URL). Empty: such daemons are
  // started without commands (logged).
  std::string commands_url;
  std::string commands_ca_file;  // where the daemon finds the roots to check the api with
  // How long a replica's claim outlives its last round, for rounds every `interval`: ten rounds,
  // and at least 20 s.
  static Duration lease_for(Duration interval) {
    return std::max<Duration>(interval * 10, seconds(20));
  }
};

struct ControlPlaneStats {
  std::uint64_t rounds = 0;           // rounds that read the rows
  std::uint64_t store_failures = 0;   // rounds or writes the store could not answer
  std::uint64_t dials_requested = 0;  // ManagedConnect commands published
  std::uint64_t starts = 0;           // provisioner starts (first or again)
  std::uint64_t start_failures = 0;
  std::uint64_t exits_seen = 0;   // running daemons found gone (restarted with backoff)
  std::uint64_t suspensions = 0;  // stops: idle or asked
  std::uint64_t idle_suspensions = 0;
  std::uint64_t removals = 0;
  std::uint64_t provider_failures = 0;  // a provisioner that could not be asked
};

class ControlPlane {
 public:
  // One provisioner per platform it serves; the others' daemons are recorded failed, saying so.
  // `secrets` draws the commands tokens of the daemons it starts (and the deployment's dial
  // secret, when it is the first control plane of its store).
  ControlPlane(Env& env, SecretSource& secrets, std::vector<Provisioner*> provisioners,
               ControlPlaneConfig config);
  const ControlPlaneStats& stats() const { return stats_; }
  // The api daemons with commands enabled poll, when it is known only after construction (the
  // monolith's own, once its listener has a port): for every start from now on.
  void set_commands_api(std::string url, std::string ca_file) {
    config_.commands_url = std::move(url);
    config_.commands_ca_file = std::move(ca_file);
  }

 private:
  Task<void> loop();
  Task<void> round();
  Task<void> act_once(ManagedDaemonRecord row);
  Task<void> act(ManagedDaemonRecord row);
  Task<void> carry_out(RoundAction action, const ManagedDaemonRecord& row,
                       const ProvisionedDaemon& seen, bool connected, Provisioner& provisioner);
  Task<void> suspend(const ManagedDaemonRecord& row, Provisioner& provisioner, bool idle);
  Task<void> remove(const ManagedDaemonRecord& row, Provisioner& provisioner);
  Task<bool> record(const ManagedDaemonRecord& row, ObservedUpdate update);
  Task<void> start(const ManagedDaemonRecord& row, Provisioner& provisioner);
  Task<void> started(const ManagedDaemonRecord& row, Result<ProvisionedDaemon> start);
  void publish_connect(const ManagedDaemonRecord& row, const std::string& address);
  ObservedUpdate keep(const ManagedDaemonRecord& row) const;
  ObservedUpdate backed_off(const ManagedDaemonRecord& row, ObservedState state,
                            std::string error) const;

  Env& env_;
  SecretSource& secrets_;
  // The store's cluster secret the daemons' dial keys derive from (core/managed_dial_key.h):
  // read with the first round's lease, before anything is started or dialled.
  std::string dial_secret_;
  std::map<DaemonPlatform, Provisioner*> provisioners_;
  ControlPlaneConfig config_;
  ControlPlaneStats stats_;
  Wakeup wakeup_{env_.executor};  // controlplane.wake: a round now
  static constexpr std::size_t kDialsRememberedMax = 100'000;
  std::map<std::string, SteadyInstant> dialled_;  // when each daemon was last asked to be dialled
  std::set<std::string> acting_;  // daemons a round is acting on; at most daemons_per_round_max
  SubscriptionPtr wake_subscription_;
  Scope scope_;  // last: destroyed first
};

}  // namespace reliant::control_plane
