// The sub-agents runs started with the spawn tool (migration 18): each is a child run of the
// spawning run, talking on a thread of its own in the parent's chat. The row keeps what the
// spawn tools show and check — whose child it is, its preset and title — beside the run's
// status, which the engine keeps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/store.h"

namespace reliant {

struct SpawnedAgentRecord {
  std::string id;  // the sub-agent's run id: its agent_id
  std::string parent_run_id;
  std::string user_id;
  std::string chat_id;
  std::string thread;
  std::string preset;
  std::string title;
  std::int64_t created_at_ms = 0;
  // Read from its run: running, completed, failed or cancelled, and when it last changed.
  std::string status;
  std::int64_t updated_at_ms = 0;
};

Result<void> insert_spawned_agent(SqlTransaction& tx, const SpawnedAgentRecord& agent);
// One sub-agent by id, with its run's status; nullopt when there is none.
Result<std::optional<SpawnedAgentRecord>> find_spawned_agent(SqlTransaction& tx,
                                                             const std::string& id);
// A run's sub-agents, oldest first, with their runs' status.
Result<std::vector<SpawnedAgentRecord>> list_spawned_agents(SqlTransaction& tx,
                                                            const std::string& parent_run_id);

}  // namespace reliant
