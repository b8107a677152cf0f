// Chat workload: the whole request path of spec S3.4 in the simulated world — chat_api
// nodes (the real ApiServer, reached over the bus), chat_worker nodes (real engine Workers
// running the agent with the scripted model and the bus router) and chat_client nodes, next to
// the tool-path workload's gateways and daemons. Clients send messages that make the agent run a
// command on their user's daemon and follow their updates by long-polling whichever api answers.
// Checked:
//   chat_updates   every client sees its user's stored updates in order, without a gap, and
//                  only its own chat's (no other user's data);
//   chat_answers   after healing, every message sent gets exactly one final status, its run
//                  completes, and the answer quotes its own command's output.
// Tool calls running once is the tool-path workload's tool_at_most_once.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>

#include "sim/checker.h"
#include "sim/process.h"
#include "sim/scenario.h"
#include "sim/sim_llm.h"
#include "sim/sim_store.h"
#include "sim/swarm.h"
#include "sim/workload/workload.h"
#include "sim/world.h"

namespace reliant::sim {

struct ChatSummary {
  std::uint64_t messages = 0;
  std::uint64_t answered = 0;
  std::uint64_t updates_seen = 0;
  std::uint64_t api_switches = 0;
  std::uint64_t approvals = 0;                      // manual-mode tool calls the clients approved
  std::uint64_t malformed_results = 0;              // results of calls the model provider made up
  std::map<std::string, std::uint64_t> sub_agents;  // by their runs' status (workflow_spawns)
  std::map<std::string, std::uint64_t> control;     // paused_runs_start_nothing's counts
  std::map<std::string, std::uint64_t> firings;     // the triggers' firings, by status
};

class ChatWorkload final : public Workload {
 public:
  ChatWorkload(World& world, const Scenario& scenario, SimDatabase& database, Checker& checker,
               const Swarm& swarm, SimModel& model);
  ~ChatWorkload() override;

  static constexpr std::array<std::string_view, 5> kRoles = {
      "chat_api", "chat_worker", "chat_client", "workflow_client", "trigger_client"};
  std::span<const std::string_view> roles() const override { return kRoles; }
  // The clients' tokens (their users exist already: the tool-path workload seeds them).
  void seed() override;
  ComponentFactory factory(const NodeGroup& group, const std::string& name) override;
  void finish(Instant end) override;
  void summarize(RunReport& report) const override;
  ChatSummary summary() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace reliant::sim
