// WorkflowRoutes: workflow definitions over REST. The built-ins and the deployment's engine
// workflows (GET /api/v1/workflows, with each built-in's input schema for a form), a check of
// YAML without storing it (POST /api/v1/workflows/validate), and a project's own definitions
// (/api/v1/projects/{id}/workflows[/{name}]: list, create, get, update, delete). A definition is
// validated before it is stored: one that fails is refused with every mistake at
// file:line:column.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/env.h"
#include "runtime/http.h"
#include "runtime/ids.h"

namespace reliant::api {

class WorkflowRoutes {
 public:
  // `engine_workflows`: what the deployment's workers run besides the language's built-ins.
  WorkflowRoutes(Env& env, std::vector<std::string> engine_workflows);

  // The response for the paths above; nullopt for other paths.
  Task<std::optional<HttpResponse>> handle(const HttpRequest& request,
                                           const std::vector<std::string>& parts,
                                           const std::string& user_id);

 private:
  Env& env_;
  std::vector<std::string> engine_workflows_;
  IdGenerator ids_;
};

}  // namespace reliant::api
