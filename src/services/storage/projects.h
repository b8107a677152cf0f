// Projects (a codebase a user works on) and their worktrees (checkouts of it, spec S3.2's data
// model). Every read and write names the user, so one user never sees another's projects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/store.h"

namespace reliant {

struct WorktreeRecord {
  std::string id;
  std::string project_id;
  std::string path;
  std::string branch;
  std::int64_t created_at_ms = 0;
};

struct ProjectRecord {
  std::string id;
  std::string user_id;
  std::string name;
  std::string path;
  std::int64_t created_at_ms = 0;
  std::vector<WorktreeRecord> worktrees;  // filled by find_project
};

Result<void> insert_project(SqlTransaction& tx, const ProjectRecord& project);
// Oldest first, without worktrees.
Result<std::vector<ProjectRecord>> list_projects(SqlTransaction& tx, const std::string& user_id);
// With its worktrees; nullopt when there is none of this user's with that id.
Result<std::optional<ProjectRecord>> find_project(SqlTransaction& tx, const std::string& user_id,
                                                  const std::string& project_id);
// Fails with not_found when the user has no such project. Its worktrees and workflows go with
// it; chats keep their messages and lose the link.
Result<void> delete_project(SqlTransaction& tx, const std::string& user_id,
                            const std::string& project_id);

// Whether the user has a project with this id.
Result<bool> owns_project(SqlTransaction& tx, const std::string& user_id,
                          const std::string& project_id);
// The same as a requirement: not_found ("no project ID") when the project is not the user's.
Result<void> require_own_project(SqlTransaction& tx, const std::string& user_id,
                                 const std::string& project_id);

// The folder of the user's project or worktree with this id (a managed daemon's link);
// not_found naming the id when the user has neither, failed_precondition when it has no folder.
Result<std::string> project_or_worktree_path(SqlTransaction& tx, const std::string& user_id,
                                             const std::string& id);

// Fails with not_found when the project is not the user's.
Result<void> insert_worktree(SqlTransaction& tx, const std::string& user_id,
                             const WorktreeRecord& worktree);
Result<void> delete_worktree(SqlTransaction& tx, const std::string& user_id,
                             const std::string& project_id, const std::string& worktree_id);

}  // namespace reliant
