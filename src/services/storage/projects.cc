// Projects and worktrees over SQL; ownership is checked in the statements themselves.
#include "services/storage/projects.h"

#include "services/storage/sql_row.h"

namespace reliant {
namespace {

ProjectRecord project_from(const SqlRecord& row) {
  return ProjectRecord{row.text("id"),   row.text("user_id"),          row.text("name"),
                       row.text("path"), row.integer("created_at_ms"), {}};
}

Error no_project(const std::string& id) { return {ErrorCode::not_found, "no project " + id}; }

}  // namespace

Result<bool> owns_project(SqlTransaction& tx, const std::string& user_id,
                          const std::string& project_id) {
  auto rows =
      tx.query("SELECT 1 FROM projects WHERE id = $1 AND user_id = $2", {project_id, user_id});
  if (!rows) return fail(rows.error());
  return !rows->rows.empty();
}

Result<void> require_own_project(SqlTransaction& tx, const std::string& user_id,
                                 const std::string& project_id) {
  auto owned = owns_project(tx, user_id, project_id);
  if (!owned) return fail(owned.error());
  if (!*owned) return fail(ErrorCode::not_found, "no project " + project_id);
  return {};
}

Result<std::string> project_or_worktree_path(SqlTransaction& tx, const std::string& user_id,
                                             const std::string& id) {
  auto rows = tx.query(
      "SELECT path FROM projects WHERE id = $1 AND user_id = $2 UNION ALL "
      "SELECT w.path FROM worktrees w JOIN projects p ON p.id = w.project_id "
      "WHERE w.id = $1 AND p.user_id = $2",
      {id, user_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) {
    return fail(ErrorCode::not_found, "no project or worktree " + id + " of yours");
  }
  std::string path = first_record(*rows).text("path");
  if (path.empty()) {
    return fail(ErrorCode::failed_precondition, "project or worktree " + id + " has no folder");
  }
  return path;
}

Result<void> insert_project(SqlTransaction& tx, const ProjectRecord& project) {
  auto inserted = tx.execute(
      "INSERT INTO projects (id, user_id, name, path, created_at_ms) VALUES ($1, $2, $3, $4, $5)",
      {project.id, project.user_id, project.name, project.path, project.created_at_ms});
  if (!inserted) return fail(inserted.error());
  return {};
}

Result<std::vector<ProjectRecord>> list_projects(SqlTransaction& tx, const std::string& user_id) {
  auto rows = tx.query(
      "SELECT id, user_id, name, path, created_at_ms FROM projects WHERE user_id = $1 "
      "ORDER BY created_at_ms, id",
      {user_id});
  if (!rows) return fail(rows.error());
  std::vector<ProjectRecord> out;
  for (const SqlRecord& row : records(*rows)) out.push_back(project_from(row));
  return out;
}

Result<std::optional<ProjectRecord>> find_project(SqlTransaction& tx, const std::string& user_id,
                                                  const std::string& project_id) {
  auto rows = tx.query(
      "SELECT id, user_id, name, path, created_at_ms FROM projects WHERE id = $1 AND user_id = $2",
      {project_id, user_id});
  if (!rows) return fail(rows.error());
  if (rows->rows.empty()) return std::optional<ProjectRecord>();
  ProjectRecord project = project_from(first_record(*rows));
  auto trees = tx.query(
      "SELECT id, project_id, path, branch, created_at_ms FROM worktrees WHERE project_id = $1 "
      "ORDER BY created_at_ms, id",
      {project_id});
  if (!trees) return fail(trees.error());
  for (const SqlRecord& row : records(*trees)) {
    project.worktrees.push_back(WorktreeRecord{row.text("id"), row.text("project_id"),
                                               row.text("path"), row.text("branch"),
                                               row.integer("created_at_ms")});
  }
  return std::optional<ProjectRecord>(std::move(project));
}

Result<void> delete_project(SqlTransaction& tx, const std::string& user_id,
                            const std::string& project_id) {
  // Explicit rather than ON DELETE actions: SQLite enforces them only with foreign keys on.
  auto owned = owns_project(tx, user_id, project_id);
  if (!owned) return fail(owned.error());
  if (!*owned) return fail(no_project(project_id));
  for (const char* sql : {"UPDATE chats SET worktree_id = NULL WHERE worktree_id IN "
                          "(SELECT id FROM worktrees WHERE project_id = $1)",
                          "UPDATE chats SET project_id = NULL WHERE project_id = $1",
                          "DELETE FROM worktrees WHERE project_id = $1",
                          "DELETE FROM project_workflows WHERE project_id = $1",
                          "DELETE FROM projects WHERE id = $1"}) {
    auto done = tx.execute(sql, {project_id});
    if (!done) return fail(done.error());
  }
  return {};
}

Result<void> insert_worktree(SqlTransaction& tx, const std::string& user_id,
                             const WorktreeRecord& worktree) {
  auto owned = owns_project(tx, user_id, worktree.project_id);
  if (!owned) return fail(owned.error());
  if (!*owned) return fail(no_project(worktree.project_id));
  auto inserted = tx.execute(
      "INSERT INTO worktrees (id, project_id, path, branch, created_at_ms) "
      "VALUES ($1, $2, $3, $4, $5)",
      {worktree.id, worktree.project_id, worktree.path, worktree.branch, worktree.created_at_ms});
  if (!inserted) return fail(inserted.error());
  return {};
}

Result<void> delete_worktree(SqlTransaction& tx, const std::string& user_id,
                             const std::string& project_id, const std::string& worktree_id) {
  auto owned = owns_project(tx, user_id, project_id);
  if (!owned) return fail(owned.error());
  if (!*owned) return fail(no_project(project_id));
  auto unlinked =
      tx.execute("UPDATE chats SET worktree_id = NULL WHERE worktree_id = $1", {worktree_id});
  if (!unlinked) return fail(unlinked.error());
  auto deleted = tx.execute("DELETE FROM worktrees WHERE id = $1 AND project_id = $2",
                            {worktree_id, project_id});
  if (!deleted) return fail(deleted.error());
  if (*deleted == 0) return fail(ErrorCode::not_found, "no worktree " + worktree_id);
  return {};
}

}  // namespace reliant
