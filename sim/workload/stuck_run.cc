// Where a workflow run that never ended is stuck (stuck_run.h).
#include "sim/workload/stuck_run.h"

#include "base/time.h"
#include "core/workflow/engine_workflow.h"
#include "services/engine/engine_sql.h"
#include "services/storage/sql_row.h"

namespace reliant::sim {
namespace {

// A family is at most kChildRunDepthMax deep; a bound here keeps a report short regardless.
constexpr int kFamilyShownMax = 12;

Result<void> describe(SqlTransaction& tx, const std::string& run_id, std::string& out) {
  auto tasks = tx.query(
      "SELECT id, status, attempt, lease_owner, visible_at_ms, lease_expires_at_ms "
      "FROM engine_tasks WHERE run_id = $1 ORDER BY id",
      {run_id});
  if (!tasks) return fail(tasks.error());
  for (const SqlRecord& r : records(*tasks)) {
    out += "; task " + r.text("id") + " " + r.text("status") + " attempt " +
           std::to_string(r.integer("attempt")) + " owner " +
           r.optional_text("lease_owner").value_or("-") + " visible " +
           std::to_string(r.integer("visible_at_ms") - to_ms(kSimEpoch)) + "ms";
    if (auto expires = r.optional_integer("lease_expires_at_ms")) {
      out += " lease until " + std::to_string(*expires - to_ms(kSimEpoch)) + "ms";
    }
  }
  auto history = engine::load_history(tx, run_id);
  if (!history) return fail(history.error());
  const std::size_t shown = std::min<std::size_t>(history->size(), 4);
  for (std::size_t i = history->size() - shown; i < history->size(); ++i) {
    const auto& e = (*history)[i];
    out += "; event " + std::to_string(e.seq) + " " + std::string(engine::to_string(e.kind)) +
           " at " + std::to_string(e.at_ms - to_ms(kSimEpoch)) + "ms";
  }
  return {};
}

}  // namespace

std::string where_stuck(SimDatabase& database, const std::string& run_id) {
  std::string out;
  auto read = database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    out.clear();
    if (auto ok = describe(tx, run_id, out); !ok) return ok;
    // Down the family: the children of each level, with their state.
    std::string parent = run_id;
    for (int depth = 0; depth < kFamilyShownMax; ++depth) {
      auto children = tx.query(
          "SELECT id, status, parent_key FROM workflow_runs WHERE parent_run_id = $1 ORDER BY id",
          {parent});
      if (!children) return fail(children.error());
      std::string next;
      for (const SqlRecord& r : records(*children)) {
        out += "; child " + r.text("id") + " (node " + r.optional_text("parent_key").value_or("?") +
               ") " + r.text("status");
        if (next.empty()) next = r.text("id");
      }
      if (next.empty()) break;
      out += ":";
      if (auto ok = describe(tx, next, out); !ok) return ok;
      parent = next;
    }
    return {};
  });
  if (!read) return "; cannot read the run: " + read.error().message;
  return out.empty() ? "; no tasks, no history, no children" : out;
}

}  // namespace reliant::sim
