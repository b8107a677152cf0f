// Spawned sub-agents over SQL (spawned_agents.h).
#include "services/storage/spawned_agents.h"

#include "services/storage/sql_row.h"

namespace reliant {
namespace {

// The row and its run's status: a sub-agent whose run is gone reads as cancelled.
constexpr const char* kSelect =
    "SELECT a.id, a.parent_run_id, a.user_id, a.chat_id, a.thread, a.preset, a.title, "
    "a.created_at_ms, COALESCE(r.status, 'cancelled') AS status, "
    "COALESCE(r.updated_at_ms, a.created_at_ms) AS updated_at_ms "
    "FROM spawned_agents a LEFT JOIN workflow_runs r ON r.id = a.id ";

SpawnedAgentRecord agent_of(const SqlRecord& row) {
  return SpawnedAgentRecord{row.text("id"),      row.text("parent_run_id"),
                            row.text("user_id"), row.text("chat_id"),
                            row.text("thread"),  row.text("preset"),
                            row.text("title"),   row.integer("created_at_ms"),
                            row.text("status"),  row.integer("updated_at_ms")};
}

}  // namespace

Result<void> insert_spawned_agent(SqlTransaction& tx, const SpawnedAgentRecord& agent) {
  auto inserted = tx.execute(
      "INSERT INTO spawned_agents (id, parent_run_id, user_id, chat_id, thread, preset, title, "
      "created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
      {agent.id, agent.parent_run_id, agent.user_id, agent.chat_id, agent.thread, agent.preset,
       agent.title, agent.created_at_ms});
  if (!inserted) return fail(inserted.error());
  return {};
}

Result<std::optional<SpawnedAgentRecord>> find_spawned_agent(SqlTransaction& tx,
                                                             const std::string& id) {
  auto rows = tx.query(std::string(kSelect) + "WHERE a.id = $1", {id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<SpawnedAgentRecord>();
  return std::optional<SpawnedAgentRecord>(agent_of(first_record(*rows)));
}

Result<std::vector<SpawnedAgentRecord>> list_spawned_agents(SqlTransaction& tx,
                                                            const std::string& parent_run_id) {
  auto rows =
      tx.query(std::string(kSelect) + "WHERE a.parent_run_id = $1 ORDER BY a.created_at_ms, a.id",
               {parent_run_id});
  if (!rows) return fail(rows.error());
  std::vector<SpawnedAgentRecord> agents;
  for (const SqlRecord& row : records(*rows)) agents.push_back(agent_of(row));
  return agents;
}

}  // namespace reliant
