// WorkflowRoutes: workflow definitions over REST. The built-ins and the deployment's engine
// workflows (GET /api/v1/workflows, with each built-in's input schema for a form), a check of
// YAML without storing it (POST /api/v1/workflows/validate), and a project's own definitions
// (/api/v1/projects/{id}/workflows[/{name}]: list, create, get, update, delete). A definition is
// validated before it is stored: one that fails is refused with every mistake at
// file:line:column. Runs of workflows: started from a built-in, a project's workflow or YAML
// given inline (POST /api/v1/workflows/runs), and answered where a node waits for a person
// (POST /api/v1/runs/{id}/approve|deny|answer: 409 when nothing waits, 404 for another user's).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/env.h"
#include "runtime/http.h"
#include "runtime/ids.h"

namespace reliant::api {

class WorkflowRoutes {
 public:
  // `engine_workflows`: what the deployment's workers run besides the language's built-ins;
  // `queue`: the engine namespace runs start in.
  WorkflowRoutes(Env& env, std::vector<std::string> engine_workflows, std::string queue);

  // The response for the paths above; nullopt for other paths.
  Task<std::optional<HttpResponse>> handle(const HttpRequest& request,
                                           const std::vector<std::string>& parts,
                                           const std::string& user_id);

 private:
  Task<HttpResponse> start_run(const HttpRequest& request, const std::string& user_id);
  Task<HttpResponse> answer(const HttpRequest& request, const std::string& run_id,
                            const std::string& verb, const std::string& user_id);

  Env& env_;
  std::vector<std::string> engine_workflows_;
  std::string queue_;
  nlohmann::json listing_;  // GET /workflows: fixed for the process's life, built once
  IdGenerator ids_;
};

}  // namespace reliant::api
