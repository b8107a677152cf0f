// The chat workload's trigger clients: users who make schedule triggers of a project workflow
// through the REST API of the api nodes, then disable and enable them now and then until
// `toggle_until`, and leave every one enabled after it. What a client made and when the api took
// each change is kept in its book, outside the component, so it survives the client's crashes:
// the trigger invariants (trigger_checks.h) hold the firings to it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/time.h"
#include "runtime/env.h"
#include "sim/workload/api_call.h"
#include "sim/workload/tools_config.h"
#include "sim/world.h"

namespace reliant::sim {

struct MadeTrigger {
  TriggerClientTrigger wanted;
  std::string id;        // once the api made it (its reply, or the user's trigger list, said so)
  bool enabled = true;   // what the client asks for
  bool settled = false;  // the api took `enabled`
  // World time of the reply that settled it: the trigger is as `enabled` says from then on, at
  // the latest.
  Instant settled_at{};
  std::uint64_t toggles = 0;
};

struct TriggerClientBook {
  std::string node;
  std::string user_id;
  std::string token;
  std::string project_id;     // the user's project "sim-project-<user>", holding the workflow
  std::string workflow_name;  // the workflow's `name:`
  TriggerClientConfig config;
  ApiRoute route;
  std::vector<MadeTrigger> triggers;
  Instant next_toggle{};
  std::uint64_t created = 0;  // made by a request whose reply came
  std::uint64_t found = 0;    // found in the list after a request whose reply was lost
  std::uint64_t toggled = 0;  // enables and disables the api took
};

std::shared_ptr<void> make_trigger_client(Env& env, const World& world, TriggerClientBook* book);

}  // namespace reliant::sim
