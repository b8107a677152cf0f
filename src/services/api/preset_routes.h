// PresetRoutes: the presets a user sees and keeps, as operations every API face calls (REST
// here, gRPC through GrpcApi's PresetService) and as the REST paths that call them.
//   GET    /api/v1/presets[?project_id=P]        the presets in force: built-in, the user's and
//                                                the project's, each name once (the most specific)
//   GET    /api/v1/presets/{name}[?project_id=P] one, with its YAML
//   POST   /api/v1/presets/validate              {source}: checked, stored nowhere
//   POST   /api/v1/presets                       {source, project_id?}: stored (replacing the one
//                                                of that name in the same place)
//   DELETE /api/v1/presets/{name}[?project_id=P] the user's (or the project's) own
// A preset is validated before it is stored: one that fails is refused with every mistake at
// file:line:column. Another user's project is not_found.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/env.h"
#include "runtime/http.h"
#include "runtime/ids.h"

namespace reliant::api {

// Presets one user keeps in one place (their own, or one project's).
inline constexpr std::size_t kStoredPresetsMax = 500;

class PresetRoutes {
 public:
  explicit PresetRoutes(Env& env);

  // The response for /api/v1/presets…; nullopt for other paths.
  Task<std::optional<HttpResponse>> handle(const HttpRequest& request,
                                           const std::vector<std::string>& parts,
                                           const std::string& user_id);

  // {presets: [{name, description, tag, origin, params, updated_at_ms}]}
  Task<Result<nlohmann::json>> list(std::string user_id, std::string project_id);
  // One in force, with `source`; not_found when there is none of that name.
  Task<Result<nlohmann::json>> get(std::string user_id, std::string project_id, std::string name);
  // {name, description, tag, params, valid: true}; every mistake in *diagnostics.
  Result<nlohmann::json> validate(const std::string& source, nlohmann::json* diagnostics) const;
  // Stores a valid preset for the user (or the project): what get() then answers.
  Task<Result<nlohmann::json>> put(std::string user_id, std::string project_id, std::string source,
                                   nlohmann::json* diagnostics);
  Task<Result<nlohmann::json>> remove(std::string user_id, std::string project_id,
                                      std::string name);

 private:
  Env& env_;
  IdGenerator ids_;
};

}  // namespace reliant::api
