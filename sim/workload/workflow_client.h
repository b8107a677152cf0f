// The chat workload's workflow clients: users who start runs of a YAML workflow (the scenario's)
// through the api nodes, follow each run's node events (resuming by since_seq on whichever api
// answers), answer the approvals they meet, and the invariants over those runs:
//   workflow_runs_end      every run a client started, or found in its run list after a start
//                          whose reply was lost, ends exactly once — by the end when it started
//                          in time — with the outcome and outputs the scenario expects for the
//                          answers its approvals got (a run started before healing may fail
//                          instead: faults can use up a node's attempts);
//   workflow_node_daemons  every node that ran on a daemon ran on one of its run's user that its
//                          `daemon:` selector matches (checked over every workflow run).
// What a client saw is kept in its book, outside the component, so it survives the client's
// crashes.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/time.h"
#include "runtime/env.h"
#include "sim/checker.h"
#include "sim/sim_store.h"
#include "sim/workload/api_call.h"
#include "sim/workload/tools_config.h"
#include "sim/world.h"

namespace reliant::sim {

// What a client saw of one run.
struct FollowedRun {
  Instant started{};
  bool adopted = false;                   // found in the run list: the start's reply was lost
  std::int64_t cursor = 0;                // the last node event's seq seen
  std::map<std::string, bool> decisions;  // approval key → approve?, drawn once
  std::vector<std::string> answers;       // "approved" / "denied", in the order given
  std::set<std::string> answered;         // approval keys the api took an answer for
  int ends = 0;                           // run_completed / run_failed / run_cancelled seen
  std::string outcome;
  nlohmann::json outputs;
  std::string error;
  // Run control (WorkflowControlConfig), drawn when the client first follows the run.
  bool pause_planned = false;
  bool pause_at_approval = false;  // else at pause_at (world time)
  bool leave_paused = false;
  Instant pause_at{};
  Duration pause_length{};
  bool paused = false;   // the client's pause took (its reply, or the run's events, said so)
  Instant resume_at{};   // world time
  bool resumed = false;  // the client's resume took
  bool set_planned = false;
  bool input_set = false;                      // the api took the change of input
  std::map<std::string, std::string> holding;  // held step key → retry, skip, fail or leave
  std::map<std::string, Instant> act_at;       // held step key → when the client acts on it
  // Left paused or with a step held for good: the client moves it on no more, so it may run on.
  bool left = false;
  std::uint64_t control_requests = 0;  // pause, resume, retry, skip, fail and set sent
};

struct WorkflowClientBook {
  std::string node;
  std::string user_id;
  std::string token;
  WorkflowClientConfig config;
  std::string workflow_name;  // the definition's name, to find its runs in the run list
  std::string project_id;     // config.project: the project holding the workflow
  ApiRoute route;
  std::map<std::string, FollowedRun> runs;
  // Run ids some client of this user follows (shared by them, so a found run has one follower).
  std::set<std::string>* followed = nullptr;
  std::uint64_t started = 0;
  std::uint64_t approved = 0;
  std::uint64_t denied = 0;
  // Control requests the api took (answered 200), by verb.
  std::map<std::string, std::uint64_t> controlled;
};

// The client component of a workflow_client node, built anew on each start. `world` gives the
// checker's records world time, whatever the client's clock reads.
std::shared_ptr<void> make_workflow_client(Env& env, const World& world, WorkflowClientBook* book,
                                           Checker* checker);

void check_workflow_clients(const std::vector<std::unique_ptr<WorkflowClientBook>>& books,
                            SimDatabase& database, Checker& checker, Instant heal, Instant end);
// workflow_node_daemons (each node ran where the selector the engine evaluated says) and
// tool_placement (where the workflows' YAML says: sim/workload/tool_placement.h).
void check_node_daemons(SimDatabase& database, Checker& checker, Instant end);

// The report's line on the workflow clients' runs, with the sub-agents found
// (workflow_spawns) and what the histories hold of run control (paused_runs_start_nothing).
std::string summarize_workflow_clients(
    const std::vector<std::unique_ptr<WorkflowClientBook>>& books,
    const std::map<std::string, std::uint64_t>& sub_agents,
    const std::map<std::string, std::uint64_t>& control);

// "approved,denied", or "none" for a run that met no approval.
std::string answers_key(const FollowedRun& run);

}  // namespace reliant::sim
