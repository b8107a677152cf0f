// Project workflow definitions over SQL; ownership is checked through the project in every call.
#include "services/storage/project_workflows.h"

#include "services/storage/projects.h"
#include "services/storage/sql_row.h"

namespace reliant {
namespace {

constexpr const char* kColumns =
    "id, project_id, name, source, version, created_at_ms, updated_at_ms";

ProjectWorkflowRecord workflow_from(const SqlRecord& row) {
  return ProjectWorkflowRecord{row.text("id"),
                               row.text("project_id"),
                               row.text("name"),
                               row.text("source"),
                               row.integer("version"),
                               row.integer("created_at_ms"),
                               row.integer("updated_at_ms")};
}

Result<std::optional<ProjectWorkflowRecord>> find_owned(SqlTransaction& tx,
                                                        const std::string& project_id,
                                                        const std::string& name) {
  auto rows = tx.query(std::string("SELECT ") + kColumns +
                           " FROM project_workflows WHERE project_id = $1 AND name = $2",
                       {project_id, name});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<ProjectWorkflowRecord>();
  return std::optional<ProjectWorkflowRecord>(workflow_from(first_record(*rows)));
}

Error no_workflow(const std::string& project_id, const std::string& name) {
  return {ErrorCode::not_found, "project " + project_id + " has no workflow '" + name + "'"};
}

}  // namespace

Result<void> insert_project_workflow(SqlTransaction& tx, const std::string& user_id,
                                     const ProjectWorkflowRecord& workflow) {
  if (auto owned = require_own_project(tx, user_id, workflow.project_id); !owned) return owned;
  auto existing = find_owned(tx, workflow.project_id, workflow.name);
  if (!existing) return fail(existing.error());
  if (*existing) {
    return fail(ErrorCode::already_exists, "project " + workflow.project_id +
                                               " already has a workflow '" + workflow.name +
                                               "' (update it with PUT)");
  }
  auto inserted = tx.execute(std::string("INSERT INTO project_workflows (") + kColumns +
                                 ") VALUES ($1, $2, $3, $4, $5, $6, $7)",
                             {workflow.id, workflow.project_id, workflow.name, workflow.source,
                              workflow.version, workflow.created_at_ms, workflow.updated_at_ms});
  if (!inserted) return fail(inserted.error());
  return {};
}

Result<ProjectWorkflowRecord> update_project_workflow(
    SqlTransaction& tx, const std::string& user_id, const std::string& project_id,
    const std::string& name, const std::string& source, std::int64_t now_ms) {
  if (auto owned = require_own_project(tx, user_id, project_id); !owned) return fail(owned.error());
  auto updated = tx.execute(
      "UPDATE project_workflows SET source = $3, version = version + 1, updated_at_ms = $4 "
      "WHERE project_id = $1 AND name = $2",
      {project_id, name, source, now_ms});
  if (!updated) return fail(updated.error());
  if (*updated == 0) return fail(no_workflow(project_id, name));
  auto found = find_owned(tx, project_id, name);
  if (!found) return fail(found.error());
  if (!*found) return fail(no_workflow(project_id, name));
  return std::move(**found);
}

Result<std::vector<ProjectWorkflowRecord>> list_project_workflows(SqlTransaction& tx,
                                                                  const std::string& user_id,
                                                                  const std::string& project_id) {
  if (auto owned = require_own_project(tx, user_id, project_id); !owned) return fail(owned.error());
  auto rows = tx.query(std::string("SELECT ") + kColumns +
                           " FROM project_workflows WHERE project_id = $1 ORDER BY name",
                       {project_id});
  if (!rows) return fail(rows.error());
  std::vector<ProjectWorkflowRecord> out;
  for (const SqlRecord& row : records(*rows)) out.push_back(workflow_from(row));
  return out;
}

Result<std::optional<ProjectWorkflowRecord>> find_project_workflow(SqlTransaction& tx,
                                                                   const std::string& user_id,
                                                                   const std::string& project_id,
                                                                   const std::string& name) {
  if (auto owned = require_own_project(tx, user_id, project_id); !owned) return fail(owned.error());
  return find_owned(tx, project_id, name);
}

Result<ProjectWorkflowRecord> get_project_workflow(SqlTransaction& tx, const std::string& user_id,
                                                   const std::string& project_id,
                                                   const std::string& name) {
  auto found = find_project_workflow(tx, user_id, project_id, name);
  if (!found) return fail(found.error());
  if (!*found) return fail(no_workflow(project_id, name));
  return std::move(**found);
}

Result<void> delete_project_workflow(SqlTransaction& tx, const std::string& user_id,
                                     const std::string& project_id, const std::string& name) {
  if (auto owned = require_own_project(tx, user_id, project_id); !owned) return owned;
  auto deleted = tx.execute("DELETE FROM project_workflows WHERE project_id = $1 AND name = $2",
                            {project_id, name});
  if (!deleted) return fail(deleted.error());
  if (*deleted == 0) return fail(no_workflow(project_id, name));
  return {};
}

}  // namespace reliant
