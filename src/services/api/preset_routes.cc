// Presets over REST, and the operations gRPC shares (see the header).
#include "services/api/preset_routes.h"

#include "base/assert.h"
#include "core/workflow/preset.h"
#include "services/api/api_server.h"
#include "services/api/api_support.h"
#include "services/storage/preset_library.h"
#include "services/storage/presets.h"

namespace reliant::api {
namespace {

constexpr std::string_view kPresetFile = "preset.yaml";

Result<workflow::Preset> loaded_preset(const std::string& source, Json* diagnostics) {
  auto loaded = workflow::load_preset(source);
  if (!loaded) return fail(diagnosed(kPresetFile, loaded.error(), diagnostics));
  return std::move(*loaded);
}

std::string query_value(const HttpRequest& request, const std::string& key) {
  const auto it = request.query.find(key);
  return it == request.query.end() ? std::string() : it->second;
}

}  // namespace

PresetRoutes::PresetRoutes(Env& env)
    : env_(env), ids_(env.executor, env.random.split(0x70727374ULL)) {}

Task<Result<Json>> PresetRoutes::list(std::string user_id, std::string project_id) {
  JsonTransactionBody body = [user_id, project_id](SqlTransaction& tx) -> Result<Json> {
    auto library = PresetLibrary::load(tx, user_id, project_id);
    if (!library) return fail(library.error());
    Json list = Json::array();
    for (const PresetInForce* preset : library->all()) list.push_back(to_json(*preset, false));
    return Json{{"presets", list}};
  };
  Task<Result<Json>> reading = env_.store->transact_for(std::move(body));
  co_return co_await reading;
}

Task<Result<Json>> PresetRoutes::get(std::string user_id, std::string project_id,
                                     std::string name) {
  JsonTransactionBody body = [user_id, project_id, name](SqlTransaction& tx) -> Result<Json> {
    auto library = PresetLibrary::load(tx, user_id, project_id);
    if (!library) return fail(library.error());
    const PresetInForce* preset = library->find(name);
    if (preset == nullptr) return fail(ErrorCode::not_found, "no preset '" + name + "'");
    return to_json(*preset, true);
  };
  Task<Result<Json>> reading = env_.store->transact_for(std::move(body));
  co_return co_await reading;
}

Result<Json> PresetRoutes::validate(const std::string& source, Json* diagnostics) const {
  auto preset = loaded_preset(source, diagnostics);
  if (!preset) return fail(preset.error());
  return Json{{"name", preset->name},
              {"description", preset->description},
              {"tag", preset->tag},
              {"params", preset->params},
              {"valid", true}};
}

Task<Result<Json>> PresetRoutes::put(std::string user_id, std::string project_id,
                                     std::string source, Json* diagnostics) {
  auto preset = loaded_preset(source, diagnostics);
  if (!preset) co_return fail(preset.error());
  const std::int64_t now_ms = to_ms(env_.executor.now());
  PresetRecord record{ids_.next(), user_id, project_id, preset->name, source, now_ms, now_ms};
  JsonTransactionBody body = [record](SqlTransaction& tx) -> Result<Json> {
    auto stored = list_presets(tx, record.user_id, record.project_id);
    if (!stored) return fail(stored.error());
    std::size_t here = 0;
    bool replaces = false;
    for (const auto& each : *stored) {
      if (each.project_id != record.project_id) continue;
      ++here;
      replaces = replaces || each.name == record.name;
    }
    if (!replaces && here >= kStoredPresetsMax) {
      return fail(ErrorCode::resource_exhausted,
                  "at most " + std::to_string(kStoredPresetsMax) + " presets are kept " +
                      (record.project_id.empty() ? "per user" : "per project"));
    }
    auto put = put_preset(tx, record);
    if (!put) return fail(put.error());
    auto library = PresetLibrary::load(tx, record.user_id, record.project_id);
    if (!library) return fail(library.error());
    const PresetInForce* in_force = library->find(record.name);
    RELIANT_ASSERT(in_force != nullptr);
    return to_json(*in_force, true);
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  co_return co_await writing;
}

Task<Result<Json>> PresetRoutes::remove(std::string user_id, std::string project_id,
                                        std::string name) {
  JsonTransactionBody body = [user_id, project_id, name](SqlTransaction& tx) -> Result<Json> {
    if (auto deleted = delete_preset(tx, user_id, project_id, name); !deleted)
      return fail(deleted.error());
    return Json{{"name", name}, {"status", "deleted"}};
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  co_return co_await writing;
}

Task<std::optional<HttpResponse>> PresetRoutes::handle(const HttpRequest& request,
                                                       const std::vector<std::string>& parts,
                                                       const std::string& user_id) {
  if (parts.size() < 3 || parts[2] != "presets" || parts.size() > 4) co_return std::nullopt;
  const std::string& method = request.method;
  const std::string project_id = query_value(request, "project_id");
  Json diagnostics;
  std::optional<Task<Result<Json>>> serving;
  if (parts.size() == 3 && method == "GET") {
    serving.emplace(list(user_id, project_id));
  } else if (parts.size() == 4 && method == "GET") {
    serving.emplace(get(user_id, project_id, parts[3]));
  } else if (parts.size() == 4 && method == "DELETE") {
    serving.emplace(remove(user_id, project_id, parts[3]));
  }
  if (serving) {
    Result<Json> served = co_await std::move(*serving);
    co_return respond_diagnosed(served, 200, diagnostics);
  }
  const bool validating = parts.size() == 4 && parts[3] == "validate";
  if (method != "POST" || (parts.size() == 4 && !validating)) co_return std::nullopt;
  auto body = parse_json_body(request);
  if (!body) co_return error_response(body.error());
  const Json source = body->value("source", Json());
  const Json project = body->value("project_id", Json());
  if (!source.is_string() || source.get_ref<const std::string&>().empty() ||
      !(project.is_null() || project.is_string())) {
    co_return error_response({ErrorCode::invalid_argument,
                              "expected {\"source\": a preset's YAML, \"project_id\": optional}"});
  }
  if (validating) {
    co_return respond_diagnosed(validate(source.get<std::string>(), &diagnostics), 200,
                                diagnostics);
  }
  Task<Result<Json>> putting =
      put(user_id, project.is_string() ? project.get<std::string>() : project_id,
          source.get<std::string>(), &diagnostics);
  Result<Json> put_done = co_await putting;
  co_return respond_diagnosed(put_done, 201, diagnostics);
}

}  // namespace reliant::api
