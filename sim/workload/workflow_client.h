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

// "approved,denied", or "none" for a run that met no approval.
std::string answers_key(const FollowedRun& run);

}  // namespace reliant::sim
