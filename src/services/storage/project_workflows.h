// A project's workflow definitions: YAML stored by name, versioned on every save. The API
// validates a definition before it is stored; these statements check ownership: every one names
// the user, and a project that is not theirs is not found.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/store.h"

namespace reliant {

struct ProjectWorkflowRecord {
  std::string id;
  std::string project_id;
  std::string name;  // the definition's own `name:`
  std::string source;
  std::int64_t version = 1;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

// Fails with not_found when the project is not the user's, already_exists when it has a
// workflow of that name.
Result<void> insert_project_workflow(SqlTransaction& tx, const std::string& user_id,
                                     const ProjectWorkflowRecord& workflow);
// Replaces the source and bumps the version; the updated record, or not_found.
Result<ProjectWorkflowRecord> update_project_workflow(
    SqlTransaction& tx, const std::string& user_id, const std::string& project_id,
    const std::string& name, const std::string& source, std::int64_t now_ms);
// By name; fails with not_found when the project is not the user's.
Result<std::vector<ProjectWorkflowRecord>> list_project_workflows(SqlTransaction& tx,
                                                                  const std::string& user_id,
                                                                  const std::string& project_id);
// The same, failing with not_found when the project has no workflow of that name.
Result<ProjectWorkflowRecord> get_project_workflow(SqlTransaction& tx, const std::string& user_id,
                                                   const std::string& project_id,
                                                   const std::string& name);
Result<std::optional<ProjectWorkflowRecord>> find_project_workflow(SqlTransaction& tx,
                                                                   const std::string& user_id,
                                                                   const std::string& project_id,
                                                                   const std::string& name);
Result<void> delete_project_workflow(SqlTransaction& tx, const std::string& user_id,
                                     const std::string& project_id, const std::string& name);

}  // namespace reliant
