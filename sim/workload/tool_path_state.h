// What the tool-path workload's parts share (tools.cc, tool_client.cc): a daemon's machine, the
// workload's state and what the checkers read of it, and the tool clients' start.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "runtime/env.h"
#include "runtime/ids.h"
#include "services/daemon/daemon.h"
#include "services/gateway/gateway.h"
#include "sim/checker.h"
#include "sim/process.h"
#include "sim/scenario.h"
#include "sim/sim_host.h"
#include "sim/sim_pods.h"
#include "sim/sim_store.h"
#include "sim/sim_transport.h"
#include "sim/swarm.h"
#include "sim/workload/tools.h"

namespace reliant::sim {

namespace v1 = reliant::daemon::v1;

inline constexpr int kGatewayPort = 9190;
inline constexpr int kManagedPort = 9290;

inline std::string user_id_of(const std::string& user) { return "user-" + user; }
// Where a managed daemon's node listens for gateways.
inline std::string managed_address(const std::string& node) {
  return node + ":" + std::to_string(kManagedPort);
}

// One daemon's machine: what outlives the daemon process — its credentials file, its
// daemon.json and its request journal — plus what the checkers need to know about it.
struct ToolPathWorkload::Machine final : daemon::DaemonObserver {
  std::string node;
  std::string user_id;
  DaemonNodeConfig config;
  std::string token;                   // the credentials file; empty once deleted
  std::string daemon_id;               // ~/.reliant/daemon.json
  std::uint64_t registration_seq = 0;  // idem
  std::string token_id;                // the token's row, for revocation
  daemon::MemoryRequestJournal journal;
  SimProcess* process = nullptr;
  bool registered = false;
  std::optional<Instant> registered_since;
  std::optional<Instant> down_since;
  std::uint64_t registrations = 0;
  std::uint64_t auth_failures = 0;
  ToolPathWorkload::Impl* impl = nullptr;

  void on_registered(const std::string& id, const std::string& /*gateway*/) override;
  void on_disconnected() override;
  void on_execute(const v1::ToolRequest& request) override;
  void on_auth_failure() override { ++auth_failures; }
};

struct ToolPathWorkload::Impl {
  World& world;
  const Scenario& scenario;
  SimDatabase& database;
  SimStreams& streams;
  Checker& checker;
  Swarm swarm;
  SimHostFaults* host_faults = nullptr;            // the daemons' machines' faults
  std::vector<std::unique_ptr<Machine>> machines;  // topology order
  std::map<std::string, Machine*> machine_by_node;
  std::map<std::string, SimProcess*> gateways;  // node → process
  // node → the running incarnation's component (expired while the gateway is down)
  std::map<std::string, std::weak_ptr<gateway::Gateway>> gateway_components;
  std::vector<std::string> gateway_addresses;
  std::map<std::string, std::vector<std::string>> executions;  // request id → daemon nodes
  std::vector<ToolCallRecord> calls;
  std::vector<std::shared_ptr<gateway::GatewayStats>> gateway_stats;
  std::uint64_t mcp_crashes = 0;
  // Cancel clients: when each call was cancelled, and when each command ended on a daemon (by
  // the request id it echoes).
  struct CancelRecord {
    std::string request_id;
    std::string client;
    Instant cancelled_at{};
  };
  std::vector<CancelRecord> cancels;
  std::map<std::string, Instant> command_ended;
  std::map<std::string, int> command_runs;  // by the request id each command echoes
  // Terminal clients: each line typed, and when its output came back.
  struct TerminalLine {
    std::string client;
    std::string marker;
    Instant typed{};
    std::optional<Instant> seen;
  };
  std::vector<TerminalLine> terminal_lines;
  std::uint64_t terminals_opened = 0;
  std::uint64_t files_read_back = 0;        // files clients wrote and read back
  std::uint64_t foreign_files_refused = 0;  // their asks of other users' daemons, refused
  std::uint64_t terminal_reattaches = 0;    // reads that failed and were taken up again
  std::optional<Instant> store_healthy_since;
  // Managed daemons (with a control_plane node): their pods' platform, whether each one's wish
  // is "running" and since when (sampled each second), and the gateways' dials to them.
  std::unique_ptr<SimPods> pods;
  struct WishSeen {
    bool running = false;
    Instant since{};
  };
  std::map<std::string, WishSeen> wishes_seen;
  std::uint64_t managed_dials = 0;
  // The Commands protocol (daemon_commands.h): each command a client's send stored, and how many
  // times a handler ran each one (by command id).
  struct CommandSent {
    std::string id;
    std::string client;
    std::string daemon_node;
    std::string name;
    std::string marker;  // run_tool: what its shell command echoes (command_runs' key)
    Instant sent{};
  };
  std::vector<CommandSent> commands_sent;
  std::map<std::string, int> command_handled;
  std::uint64_t command_restarts = 0;
  Random random;
  SimExecutor clock;
  IdGenerator ids;

  void sample_statuses();
  // A daemon's row as the status sampler reads it: its status, and when a gateway last admitted
  // it, in world time.
  struct RecordedStatus {
    DaemonStatus status = DaemonStatus::disconnected;
    Instant admitted{};
  };
  bool machine_connected(const Machine& machine) const;
  bool row_compared(const Machine& machine) const;
  Result<std::map<std::string, RecordedStatus>> read_recorded_statuses();
  void check_status(const Machine& machine, const RecordedStatus& row);

  Impl(World& w, const Scenario& s, SimDatabase& d, SimStreams& st, Checker& c, const Swarm& sw)
      : world(w),
        scenario(s),
        database(d),
        streams(st),
        checker(c),
        swarm(sw),
        random(w.random().split("tool-path")),
        clock(w, kWorldNode),
        ids(clock, random.split("ids")) {}

  // Status writes may lag behind the truth by the stale timeout plus one heartbeat, and the
  // store write itself (retried with backoff up to 5 s).
  // A lease expires once a gateway has seen it unchanged for stale_after on its own clock, and a
  // gateway that restarts starts looking afresh: up to two stale_after after the last renewal.
  Duration status_allowance() const {
    return 2 * scenario.tool_path.stale_after + scenario.tool_path.heartbeat_interval + seconds(7);
  }
  // After healing: the longest reconnect backoff, the registration, and two heartbeats.
  Duration reconnect_allowance() const {
    return scenario.tool_path.backoff_max + 2 * scenario.tool_path.heartbeat_interval + seconds(5);
  }
  // A daemon without a stream must be recorded disconnected within the gateways' disconnect
  // timeout, a heartbeat, and the store write.
  Duration disconnect_allowance() const {
    return scenario.tool_path.disconnect_after + scenario.tool_path.heartbeat_interval + seconds(7);
  }
  bool healed() const { return world.now() >= kSimEpoch + scenario.heal_at; }
  bool store_healthy() const {
    const StoreFaults& f = database.faults();
    return !f.outage && f.fail_before_commit == 0 && f.fail_after_commit == 0 && f.slow == 0;
  }
};

struct ClientShared {
  ToolPathWorkload::Impl* impl;
  std::string node;
  ToolClientConfig config;
};

// A tool client of the topology's `tool_client` group: its kind's loop, until it stops.
std::shared_ptr<void> start_tool_client(Env& env, ClientShared shared);

// Managed daemons (managed_pods.cc): the pods' platform and the dial observer, set up once the
// machines are known; the control plane role; the wishes, sampled each second from begin(); the
// invariants resume_bounded and suspended_not_dialled, at the end.
void set_up_managed_pods(ToolPathWorkload::Impl& impl);
ComponentFactory control_plane_factory(ToolPathWorkload::Impl* impl, ControlPlaneConfig config,
                                       const std::string& name);
void sample_managed_wishes(ToolPathWorkload::Impl& impl);
// The managed daemons wanted running (their id), read at the end: the others may be down.
std::set<std::string> managed_wanted_running(ToolPathWorkload::Impl& impl);
// Whether its pod was started again too recently to be connected by `now`.
bool managed_pod_coming_back(const ToolPathWorkload::Impl& impl,
                             const ToolPathWorkload::Machine& machine, Instant now);
void check_managed(ToolPathWorkload::Impl& impl, Instant end);
// "; its pod …, wanted …": a managed daemon's state, for a violation's message.
std::string managed_state(ToolPathWorkload::Impl& impl, const ToolPathWorkload::Machine& machine);
// The report's line on them (empty without a control plane).
std::string managed_summary(const ToolPathWorkload::Impl& impl);

}  // namespace reliant::sim
