// Projects and worktrees: validation here, ownership in the repository's statements.
#include "services/api/project_routes.h"

#include <memory>

#include "services/api/api_server.h"
#include "services/api/api_support.h"
#include "services/storage/projects.h"

namespace reliant::api {
namespace {

constexpr std::size_t kNameMax = 200;
constexpr std::size_t kPathMax = 4096;

Json worktree_json(const WorktreeRecord& w) {
  return {{"id", w.id},
          {"project_id", w.project_id},
          {"path", w.path},
          {"branch", w.branch},
          {"created_at_ms", w.created_at_ms}};
}

Json project_json(const ProjectRecord& p, bool with_worktrees) {
  Json out = {{"id", p.id}, {"name", p.name}, {"path", p.path}, {"created_at_ms", p.created_at_ms}};
  if (with_worktrees) {
    Json trees = Json::array();
    for (const auto& w : p.worktrees) trees.push_back(worktree_json(w));
    out["worktrees"] = trees;
  }
  return out;
}

// A string field of at most `max` bytes; `required` ones must not be empty.
Result<std::string> string_field(Json& body, const char* name, std::size_t max, bool required) {
  const Json& value = body[name];
  if (value.is_null() && !required) return std::string();
  if (!value.is_string() || (required && value.get<std::string>().empty()) ||
      value.get<std::string>().size() > max) {
    return fail(ErrorCode::invalid_argument,
                "\"" + std::string(name) + "\" must be a " + (required ? "non-empty " : "") +
                    "string of at most " + std::to_string(max) + " bytes");
  }
  return value.get<std::string>();
}

}  // namespace

ProjectRoutes::ProjectRoutes(Env& env)
    : env_(env), ids_(env.executor, env.random.split(0x70726f6aULL)) {}

Task<std::optional<HttpResponse>> ProjectRoutes::handle(const HttpRequest& request,
                                                        const std::vector<std::string>& parts,
                                                        const std::string& user_id) {
  if (parts[2] != "projects") co_return std::nullopt;
  const std::string& method = request.method;
  const std::int64_t now_ms = to_ms(env_.executor.now());
  JsonTransactionBody body;
  int status = 200;

  if (parts.size() == 3 && method == "GET") {
    body = [user_id](SqlTransaction& tx) -> Result<Json> {
      auto projects = list_projects(tx, user_id);
      if (!projects) return fail(projects.error());
      Json list = Json::array();
      for (const auto& p : *projects) list.push_back(project_json(p, false));
      return Json{{"projects", list}};
    };
  } else if (parts.size() == 3 && method == "POST") {
    auto json = parse_json_body(request);
    if (!json) co_return error_response(json.error());
    auto name = string_field(*json, "name", kNameMax, true);
    if (!name) co_return error_response(name.error());
    auto path = string_field(*json, "path", kPathMax, false);
    if (!path) co_return error_response(path.error());
    ProjectRecord project{ids_.next(), user_id, *name, *path, now_ms, {}};
    status = 201;
    body = [project](SqlTransaction& tx) -> Result<Json> {
      auto inserted = insert_project(tx, project);
      if (!inserted) return fail(inserted.error());
      return project_json(project, true);
    };
  } else if (parts.size() == 4 && method == "GET") {
    body = [user_id, id = parts[3]](SqlTransaction& tx) -> Result<Json> {
      auto project = find_project(tx, user_id, id);
      if (!project) return fail(project.error());
      if (!*project) return fail(ErrorCode::not_found, "no project " + id);
      return project_json(**project, true);
    };
  } else if (parts.size() == 4 && method == "DELETE") {
    body = [user_id, id = parts[3]](SqlTransaction& tx) -> Result<Json> {
      auto deleted = delete_project(tx, user_id, id);
      if (!deleted) return fail(deleted.error());
      return Json{{"id", id}, {"status", "deleted"}};
    };
  } else if (parts.size() == 5 && parts[4] == "worktrees" && method == "POST") {
    auto json = parse_json_body(request);
    if (!json) co_return error_response(json.error());
    auto path = string_field(*json, "path", kPathMax, true);
    if (!path) co_return error_response(path.error());
    auto branch = string_field(*json, "branch", kNameMax, false);
    if (!branch) co_return error_response(branch.error());
    WorktreeRecord worktree{ids_.next(), parts[3], *path, *branch, now_ms};
    status = 201;
    body = [user_id, worktree](SqlTransaction& tx) -> Result<Json> {
      auto inserted = insert_worktree(tx, user_id, worktree);
      if (!inserted) return fail(inserted.error());
      return worktree_json(worktree);
    };
  } else if (parts.size() == 6 && parts[4] == "worktrees" && method == "DELETE") {
    body = [user_id, project = parts[3], id = parts[5]](SqlTransaction& tx) -> Result<Json> {
      auto deleted = delete_worktree(tx, user_id, project, id);
      if (!deleted) return fail(deleted.error());
      return Json{{"id", id}, {"status", "deleted"}};
    };
  } else {
    co_return std::nullopt;
  }
  Task<HttpResponse> running = transact_and_respond(env_, std::move(body), status);
  co_return co_await running;
}

}  // namespace reliant::api
