// ProjectRoutes: a user's projects and their worktrees over REST (create, list, get with its
// worktrees, delete; add and remove a worktree). Chats may name a project and worktree.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/env.h"
#include "runtime/http.h"
#include "runtime/ids.h"

namespace reliant::api {

class ProjectRoutes {
 public:
  explicit ProjectRoutes(Env& env);

  // The response for /api/v1/projects…; nullopt for other paths.
  Task<std::optional<HttpResponse>> handle(const HttpRequest& request,
                                           const std::vector<std::string>& parts,
                                           const std::string& user_id);

 private:
  Env& env_;
  IdGenerator ids_;
};

}  // namespace reliant::api
