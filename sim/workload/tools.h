// Tool-path workload: real Gateways, Daemons and bus routers in the simulated world. Tool
// clients call tools on their users' daemons — half of the calls durable fire-and-forget, half
// synchronous request-reply — while crashes, partitions, stream breaks, bus faults, store
// faults and token revocations hit them. What happened is kept outside the components so it
// survives crashes, and checked:
//   tool_at_most_once  no request id runs twice, on any daemon;
//   tool_results       every call made once the faults healed (plus the reconnect allowance)
//                      resolves a daemon and gets an answer — with the output of its own
//                      command;
//   tool_isolation     no request reaches (or is answered by) another user's daemon;
//   daemon_status      a daemon's recorded status follows the truth within the stale timeout
//                      plus one heartbeat;
//   daemon_liveness    after healing, every daemon is connected and recorded active within the
//                      backoff cap plus two heartbeats;
//   terminal_isolation no terminal client reads output another user's terminal showed (each
//                      line typed carries its user's name);
//   terminal_results   every line typed into a terminal after healing is read back, whichever
//                      gateway holds the daemon by then;
//   cancel_grace       a tool call cancelled after healing has its command end within 5 s.
// Daemons may run the simulator's MCP server (crashing at random until the faults heal), and
// clients of kind mcp call it; of kind terminal keep a terminal open; of kind cancel cancel what
// they start.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/checker.h"
#include "sim/process.h"
#include "sim/scenario.h"
#include "sim/sim_host.h"
#include "sim/sim_transport.h"
#include "sim/swarm.h"
#include "sim/workload/workload.h"
#include "sim/world.h"

namespace reliant::sim {

struct ToolCallRecord {
  std::string request_id;
  std::string client;  // node name
  std::string user_id;
  std::string daemon_id;
  bool sync = false;
  // World time, as every checker's record: a client's own clock may be skewed or stepped.
  Instant issued{};
  std::optional<Instant> answered;
  std::string outcome;     // "ok", the response's error code, or the router's failure
  bool failed = false;     // no response at all (timeout, unavailable, …)
  bool woke = false;       // its managed daemon's pod was down: the call had to resume it
  bool abandoned = false;  // its client crashed before the answer came
  Duration bound{};        // how long the router waits for it at most (timeout plus grace)

  bool ok() const { return answered && !failed && outcome == "ok"; }
};

struct ToolPathSummary {
  std::uint64_t calls = 0;
  std::uint64_t answered_ok = 0;
  std::uint64_t answered_error = 0;
  std::uint64_t failed = 0;
  std::uint64_t unroutable = 0;  // of the failed: no daemon resolved, so no request was sent
  std::uint64_t executions = 0;
  std::uint64_t registrations = 0;
  std::uint64_t auth_recoveries = 0;
  std::uint64_t status_changes = 0;
  std::uint64_t forwarded = 0;
  std::uint64_t parked = 0;
  std::uint64_t lost = 0;
  std::uint64_t stale_registrations = 0;  // refused: the daemon had registered again since
  std::uint64_t ownership_lost = 0;       // streams a gateway let go: a later one owns the row
  std::uint64_t leases_expired = 0;       // dead gateways' daemons recorded disconnected
  std::uint64_t drained_daemons = 0;      // sent to another gateway by a draining one
};

class ToolPathWorkload final : public Workload {
 public:
  ToolPathWorkload(World& world, const Scenario& scenario, SimDatabase& database,
                   SimStreams& streams, Checker& checker, const Swarm& swarm,
                   SimHostFaults& host_faults);
  ~ToolPathWorkload() override;

  static constexpr std::array<std::string_view, 4> kRoles = {"gateway", "daemon", "tool_client",
                                                             "control_plane"};
  std::span<const std::string_view> roles() const override { return kRoles; }
  // Users, their tokens and the daemons' credentials, straight into the (migrated) database.
  void seed() override;
  ComponentFactory factory(const NodeGroup& group, const std::string& name) override;
  // Learns which process runs each daemon.
  void attach(const std::string& name, SimProcess& process) override;
  // Samples recorded daemon statuses against the truth, every second of virtual time.
  void begin() override;
  // The fault `revoke_token: <daemon>`: its token is revoked and its streams reset, so the next
  // registration is refused and the daemon must recover by itself. The fault `drain: <gateway>`:
  // the gateway drains, as SIGTERM makes it, then its process exits and starts again later.
  bool apply(const ScriptedFault& fault) override;
  // End-of-run invariants.
  void finish(Instant end) override;
  void summarize(RunReport& report) const override;
  ToolPathSummary summary() const;

  // Opaque to users; named here so the roles' components (in tools.cc) can reach them.
  struct Machine;
  struct Impl;

 private:
  bool drain_gateway(const ScriptedFault& fault);

  std::unique_ptr<Impl> impl_;
};

}  // namespace reliant::sim
