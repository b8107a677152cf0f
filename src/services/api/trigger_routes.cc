// TriggerRoutes' REST paths: a user's triggers, checked before they are stored (trigger_routes.h).
#include "services/api/trigger_routes.h"

#include <algorithm>
#include <array>
#include <variant>

#include "base/base64url.h"
#include "base/sha256.h"
#include "core/triggers/schedule.h"
#include "core/workflow/trigger_declarations.h"
#include "services/api/api_support.h"
#include "services/storage/projects.h"
#include "services/triggers/trigger_scheduler.h"
#include "services/worker/worker.h"

namespace reliant::api {
namespace {

constexpr std::array<std::string_view, 14> kTriggerBodyKeys = {
    "name",   "workflow", "project_id", "declaration",    "message", "params", "enabled",
    "secret", "schedule", "webhook",    "workflow_event", "filter",  "inputs", "prompt"};
constexpr std::array<std::string_view, 3> kSourceKeys = {"schedule", "webhook", "workflow_event"};
constexpr std::size_t kWebhookSecretBytesMin = 16;
constexpr std::size_t kWebhookSecretBytesMax = 256;
constexpr std::size_t kTriggerMessageBytesMax = 64 * 1024;

Error invalid(std::string message) {
  return Error{ErrorCode::invalid_argument, std::move(message)};
}

std::string token_hash(std::string_view token) { return to_hex(Sha256::of(token)); }

// The declaration a body gives: the workflow's own entry it names, or its own spec.
Result<nlohmann::json> declaration_of(const Json& body, const workflow::Definition& definition) {
  const std::string declared = body.value("declaration", "");
  if (!declared.empty()) {
    std::string names;
    for (const auto& d : definition.triggers) {
      if (d.name == declared) return d.raw;
      names += (names.empty() ? "" : ", ") + d.name;
    }
    return fail(invalid("workflow " + definition.name + " declares no trigger '" + declared + "'" +
                        (names.empty() ? " (it declares none)" : " (it declares: " + names + ")")));
  }
  Json raw{{"name", body.value("name", "trigger")}};
  std::size_t sources = 0;
  for (const auto key : kSourceKeys) {
    if (body.contains(key)) {
      raw[std::string(key)] = body.at(std::string(key));
      ++sources;
    }
  }
  if (sources != 1) {
    return fail(
        invalid("give exactly one of schedule, webhook and workflow_event (or the "
                "\"declaration\" of the workflow's to activate)"));
  }
  for (const auto* key : {"filter", "inputs", "prompt"}) {
    if (body.contains(key)) raw[key] = body.at(key);
  }
  return raw;
}

TriggerKind kind_of(const workflow::TriggerDeclaration& declaration) {
  if (std::holds_alternative<triggers::ScheduleSpec>(declaration.source))
    return TriggerKind::schedule;
  if (std::holds_alternative<triggers::WebhookSpec>(declaration.source))
    return TriggerKind::webhook;
  return TriggerKind::workflow_event;
}

// The body's shape: known keys, each of its type.
Result<void> check_body_shape(const Json& body) {
  if (!body.is_object()) return fail(invalid("expected a JSON object"));
  for (const auto& [key, value] : body.items()) {
    if (std::find(kTriggerBodyKeys.begin(), kTriggerBodyKeys.end(), key) == kTriggerBodyKeys.end())
      return fail(invalid("unknown key '" + key + "'"));
  }
  for (const auto* key : {"name", "workflow", "project_id", "declaration", "message", "secret"}) {
    if (body.contains(key) && !body.at(key).is_string())
      return fail(invalid(std::string("\"") + key + "\" must be a string"));
  }
  if (body.contains("params") && !body.at("params").is_object())
    return fail(invalid("\"params\" must be an object of input values"));
  if (body.contains("enabled") && !body.at("enabled").is_boolean())
    return fail(invalid("\"enabled\" must be true or false"));
  if (body.value("workflow", "").empty())
    return fail(invalid("\"workflow\" names the workflow to run (builtin://NAME or a project's)"));
  if (body.value("message", "").size() > kTriggerMessageBytesMax)
    return fail(
        invalid("\"message\" is over " + std::to_string(kTriggerMessageBytesMax) + " bytes"));
  return {};
}

// Params the workflow takes, none of them mapped from the event by the declaration.
Result<void> check_params(const Json& params, const workflow::Definition& definition,
                          const workflow::TriggerDeclaration& declaration) {
  for (const auto& item : params.items()) {
    // Not a structured binding: clang before 16 cannot capture one in a lambda (tools/fuzz.sh).
    const std::string& name = item.key();
    const bool declared =
        std::any_of(definition.inputs.begin(), definition.inputs.end(),
                    [&](const workflow::InputSpec& spec) { return spec.name == name; });
    if (!declared)
      return fail(invalid("workflow " + definition.name + " has no input '" + name + "'"));
    for (const auto& [mapped, unused] : declaration.inputs) {
      if (mapped == name)
        return fail(invalid("input '" + name + "' is mapped from the event by the declaration"));
    }
  }
  return {};
}

// What a sealed HMAC secret is bound to: it opens only for its own trigger.
std::string secret_binding(const std::string& trigger_id) {
  return "reliant webhook secret\n" + trigger_id;
}

// A trigger made from a request's body (over `existing` for a replacement): checked against the
// workflow as it is stored now. `token` is set when a new webhook token was made.
struct BuiltTrigger {
  TriggerRecord trigger;
  std::optional<std::string> token;
};

}  // namespace

Json trigger_view(const TriggerRecord& t) {
  Json view{{"id", t.id},
            {"name", t.name},
            {"kind", std::string(name_of(kTriggerKindNames, t.kind))},
            {"workflow", t.workflow},
            {"project_id", t.project_id},
            {"declaration", t.declaration},
            {"spec", t.spec},
            {"params", t.params},
            {"message", t.message},
            {"enabled", t.enabled},
            {"next_fire_at_ms", t.due_ms ? Json(*t.due_ms) : Json()},
            {"created_at_ms", t.created_at_ms},
            {"updated_at_ms", t.updated_at_ms}};
  if (t.kind == TriggerKind::webhook) {
    view["webhook_path"] = "/hooks/" + t.id;
    view["signed"] = !t.sealed_secret.empty();
  }
  return view;
}

Json firing_view(const FiringRecord& f) {
  return Json{{"id", f.id},
              {"trigger_id", f.trigger_id},
              {"key", f.key},
              {"kind", f.kind},
              {"instant_ms", f.instant_ms},
              {"status", std::string(name_of(kFiringStatusNames, f.status))},
              {"detail", f.detail},
              {"chat_id", f.chat_id},
              {"run_id", f.run_id},
              {"payload", f.payload},
              {"created_at_ms", f.created_at_ms}};
}

TriggerRoutes::TriggerRoutes(Env& env, TriggerRoutesConfig config)
    : env_(env), config_(std::move(config)), ids_(env.executor, env.random.split(0x74727267ULL)) {}

std::vector<std::string> TriggerRoutes::firing_ids() {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < triggers::kFiringIdsMax; ++i) ids.push_back(ids_.next());
  return ids;
}

triggers::FiringEnv TriggerRoutes::firing_env(const std::vector<std::string>& ids) const {
  auto taken = std::make_shared<std::size_t>(0);
  return triggers::FiringEnv{env_.store->dialect(), config_.queue, config_.default_model,
                             config_.zones, [ids, taken] {
                               RELIANT_ASSERT(*taken < ids.size());
                               return ids[(*taken)++];
                             }};
}

std::string TriggerRoutes::new_token() {
  std::array<std::uint8_t, 24> bytes{};
  RELIANT_ASSERT(config_.secrets != nullptr);
  config_.secrets->fill(bytes.data(), bytes.size());
  return "rlwh_" + to_hex(bytes.data(), bytes.size());
}

void TriggerRoutes::wake() {
  if (env_.bus != nullptr) (void)env_.bus->publish(engine::wake_subject(config_.queue), "");
}

namespace {

// The HMAC secret of a signed webhook, sealed for its trigger; none for any other trigger.
Result<std::string> sealed_secret_of(const Json& body, const workflow::TriggerDeclaration& declared,
                                     const TriggerRecord& trigger,
                                     const TriggerRoutesConfig& config) {
  const auto* webhook = std::get_if<triggers::WebhookSpec>(&declared.source);
  const bool signed_hook = webhook != nullptr && webhook->hmac.has_value();
  const std::string secret = body.value("secret", "");
  if (!signed_hook) {
    if (!secret.empty()) return fail(invalid("\"secret\" is for webhooks that declare an hmac"));
    return std::string();
  }
  if (secret.empty()) {
    if (!trigger.sealed_secret.empty()) return trigger.sealed_secret;  // kept on a replacement
    return fail(invalid("a webhook with an hmac needs its \"secret\", shared with the sender"));
  }
  if (secret.size() < kWebhookSecretBytesMin || secret.size() > kWebhookSecretBytesMax) {
    return fail(invalid("\"secret\" must have " + std::to_string(kWebhookSecretBytesMin) + " to " +
                        std::to_string(kWebhookSecretBytesMax) + " bytes"));
  }
  if (config.secrets_key == nullptr || config.secrets == nullptr) {
    return fail(Error{ErrorCode::failed_precondition,
                      "this server has no secrets key: signed webhooks are off"});
  }
  std::array<std::uint8_t, kSealNonceBytes> nonce{};
  config.secrets->fill(nonce.data(), nonce.size());
  return base64url_encode(seal(*config.secrets_key, nonce, secret, secret_binding(trigger.id)));
}

// A schedule starts (or starts again) from now: nothing before `now_ms` fires.
Result<void> start_schedule(TriggerRecord& trigger, const workflow::TriggerDeclaration& declared,
                            const cel::TimeZoneLoader& zones, std::int64_t now_ms) {
  trigger.due_ms.reset();
  const auto* spec = std::get_if<triggers::ScheduleSpec>(&declared.source);
  if (spec == nullptr) return {};
  auto schedule = triggers::Schedule::compile(*spec, zones);
  if (!schedule) return fail(invalid(schedule.error()));
  trigger.considered_ms = now_ms;
  if (trigger.enabled) trigger.due_ms = triggers::schedule_due_after(*schedule, trigger, now_ms);
  return {};
}

// The definition and declaration a body names, checked: its project the user's, its workflow
// loading, its spec parsing, its params the workflow's inputs.
struct CheckedBody {
  std::shared_ptr<const workflow::Definition> definition;
  workflow::TriggerDeclaration declaration;
  Json raw;
};
Result<CheckedBody> check_body(SqlTransaction& tx, const std::string& user_id, const Json& body,
                               const cel::TimeZoneLoader& zones) {
  if (auto ok = check_body_shape(body); !ok) return fail(ok.error());
  const std::string project_id = body.value("project_id", "");
  if (!project_id.empty()) {
    auto owned = owns_project(tx, user_id, project_id);
    if (!owned) return fail(owned.error());
    if (!*owned) return fail(ErrorCode::not_found, "no project " + project_id);
  }
  const std::string workflow_name = body.value("workflow", "");
  auto definition = triggers::workflow_definition(tx, user_id, project_id, workflow_name);
  if (!definition) {
    return fail(
        invalid("workflow " + workflow_name + " does not validate: " + definition.error().message));
  }
  auto raw = declaration_of(body, **definition);
  if (!raw) return fail(raw.error());
  auto declaration = workflow::trigger_from_json(*raw, zones);
  if (!declaration) return fail(invalid(declaration.error()));
  if (auto ok = check_params(body.value("params", Json::object()), **definition, *declaration); !ok)
    return fail(ok.error());
  return CheckedBody{std::move(*definition), std::move(*declaration), std::move(*raw)};
}

// `trigger` (its id, owner and creation set; its other fields those it had, for a replacement)
// as `body` says, checked.
Result<BuiltTrigger> build_trigger(SqlTransaction& tx, TriggerRecord trigger, const Json& body,
                                   bool creating, TriggerRoutesConfig& config,
                                   const std::function<std::string()>& new_token,
                                   std::int64_t now_ms) {
  auto checked = check_body(tx, trigger.user_id, body, config.zones);
  if (!checked) return fail(checked.error());
  const TriggerKind kind = kind_of(checked->declaration);
  if (!creating && kind != trigger.kind) {
    return fail(invalid("a trigger's kind stays: this one is a " +
                        std::string(name_of(kTriggerKindNames, trigger.kind))));
  }
  trigger.project_id = body.value("project_id", "");
  const std::string declared = body.value("declaration", "");
  trigger.name = body.contains("name") ? body.value("name", "")
                 : declared.empty()    ? checked->declaration.name
                                       : body.value("workflow", "") + " / " + declared;
  trigger.kind = kind;
  trigger.workflow = body.value("workflow", "");
  trigger.declaration = body.value("declaration", "");
  trigger.spec = checked->raw;  // a declared one's as it was: each firing reads it again
  trigger.params = body.value("params", Json::object());
  trigger.message = body.value("message", "");
  trigger.enabled = body.value("enabled", creating ? true : trigger.enabled);
  trigger.updated_at_ms = now_ms;
  if (trigger.name.empty() || trigger.name.size() > workflow::kTriggerNameMax)
    return fail(invalid("a trigger's \"name\" has 1 to 64 characters"));
  auto sealed = sealed_secret_of(body, checked->declaration, trigger, config);
  if (!sealed) return fail(sealed.error());
  trigger.sealed_secret = std::move(*sealed);
  BuiltTrigger built{std::move(trigger), std::nullopt};
  if (kind == TriggerKind::webhook && built.trigger.token_hash.empty()) {
    if (config.secrets == nullptr) {
      return fail(Error{ErrorCode::failed_precondition, "this server makes no webhook tokens"});
    }
    built.token = new_token();
    built.trigger.token_hash = token_hash(*built.token);
  }
  if (creating) built.trigger.anchor_ms = now_ms;
  if (auto ok = start_schedule(built.trigger, checked->declaration, config.zones, now_ms); !ok)
    return fail(ok.error());
  return built;
}

}  // namespace

Task<Result<Json>> TriggerRoutes::list(std::string user_id, std::optional<std::string> project_id) {
  JsonTransactionBody body = [user_id, project_id](SqlTransaction& tx) -> Result<Json> {
    auto listed = list_triggers(tx, user_id, project_id);
    if (!listed) return fail(listed.error());
    Json out = Json::array();
    for (const auto& trigger : *listed) {
      Json view = trigger_view(trigger);
      auto last = list_firings(tx, trigger.id, 1);
      if (!last) return fail(last.error());
      view["last_event"] = last->empty() ? Json() : firing_view(last->front());
      out.push_back(std::move(view));
    }
    return Json{{"triggers", std::move(out)}};
  };
  Task<Result<Json>> reading = env_.store->transact_for(std::move(body));
  co_return co_await reading;
}

Task<Result<Json>> TriggerRoutes::get(std::string user_id, std::string id) {
  JsonTransactionBody body = [user_id, id](SqlTransaction& tx) -> Result<Json> {
    auto trigger = find_trigger(tx, user_id, id);
    if (!trigger) return fail(trigger.error());
    return trigger_view(*trigger);
  };
  Task<Result<Json>> reading = env_.store->transact_for(std::move(body));
  co_return co_await reading;
}

namespace {

// The answer to a create or a replacement: the view, and a new webhook token once.
Json built_answer(const BuiltTrigger& built) {
  Json out{{"trigger", trigger_view(built.trigger)}};
  if (built.token) {
    out["webhook"] = {{"path", "/hooks/" + built.trigger.id}, {"token", *built.token}};
  }
  return out;
}

}  // namespace

Task<Result<Json>> TriggerRoutes::create(std::string user_id, Json request) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  TriggerRecord fresh;
  fresh.id = ids_.next();
  fresh.user_id = user_id;
  fresh.created_at_ms = now_ms;
  JsonTransactionBody body = [this, fresh, request, now_ms](SqlTransaction& tx) -> Result<Json> {
    auto count = count_triggers(tx, fresh.user_id);
    if (!count) return fail(count.error());
    if (*count >= kTriggersPerUserMax) {
      return fail(ErrorCode::resource_exhausted,
                  "you keep " + std::to_string(*count) + " triggers, the most there may be");
    }
    auto built = build_trigger(
        tx, fresh, request, true, config_, [this] { return new_token(); }, now_ms);
    if (!built) return fail(built.error());
    if (auto ok = insert_trigger(tx, built->trigger); !ok) return fail(ok.error());
    return built_answer(*built);
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  co_return co_await writing;
}

Task<Result<Json>> TriggerRoutes::replace(std::string user_id, std::string id, Json request) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  JsonTransactionBody body = [this, user_id, id, request,
                              now_ms](SqlTransaction& tx) -> Result<Json> {
    auto existing = find_trigger(tx, user_id, id);
    if (!existing) return fail(existing.error());
    auto built = build_trigger(
        tx, *existing, request, false, config_, [this] { return new_token(); }, now_ms);
    if (!built) return fail(built.error());
    if (auto ok = update_trigger(tx, built->trigger); !ok) return fail(ok.error());
    return built_answer(*built);
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  co_return co_await writing;
}

Task<Result<Json>> TriggerRoutes::remove(std::string user_id, std::string id) {
  JsonTransactionBody body = [user_id, id](SqlTransaction& tx) -> Result<Json> {
    if (auto ok = delete_trigger(tx, user_id, id); !ok) return fail(ok.error());
    return Json{{"id", id}, {"status", "deleted"}};
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  co_return co_await writing;
}

Task<Result<Json>> TriggerRoutes::set_enabled(std::string user_id, std::string id, bool enabled) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  JsonTransactionBody body = [this, user_id, id, enabled,
                              now_ms](SqlTransaction& tx) -> Result<Json> {
    auto trigger = find_trigger(tx, user_id, id);
    if (!trigger) return fail(trigger.error());
    trigger->enabled = enabled;
    trigger->updated_at_ms = now_ms;
    auto declaration = triggers::trigger_declaration(tx, *trigger, config_.zones);
    if (!declaration) return fail(declaration.error());
    // Enabled again, a schedule goes on from now: what it missed while disabled is not owed.
    if (auto ok = start_schedule(*trigger, *declaration, config_.zones, now_ms); !ok)
      return fail(ok.error());
    if (auto ok = update_trigger(tx, *trigger); !ok) return fail(ok.error());
    return trigger_view(*trigger);
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  co_return co_await writing;
}

Task<Result<Json>> TriggerRoutes::fire(std::string user_id, std::string id) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  const std::string key = "manual:" + ids_.next();
  const std::vector<std::string> ids = firing_ids();
  JsonTransactionBody body = [this, user_id, id, key, now_ms,
                              ids](SqlTransaction& tx) -> Result<Json> {
    auto trigger = find_trigger(tx, user_id, id);
    if (!trigger) return fail(trigger.error());
    const triggers::FireRequest request{
        key,    std::string(name_of(kTriggerKindNames, trigger->kind)),
        now_ms, Json{{"manual", true}},
        true,   now_ms};
    auto fired = triggers::fire_trigger(tx, firing_env(ids), *trigger, request);
    if (!fired) return fail(fired.error());
    return firing_view(fired->firing);
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  Result<Json> fired = co_await writing;
  if (fired) wake();
  co_return fired;
}

Task<Result<Json>> TriggerRoutes::rotate(std::string user_id, std::string id) {
  const std::int64_t now_ms = to_ms(env_.executor.now());
  JsonTransactionBody body = [this, user_id, id, now_ms](SqlTransaction& tx) -> Result<Json> {
    auto trigger = find_trigger(tx, user_id, id);
    if (!trigger) return fail(trigger.error());
    if (trigger->kind != TriggerKind::webhook)
      return fail(invalid("only a webhook has a token to rotate"));
    if (config_.secrets == nullptr)
      return fail(Error{ErrorCode::failed_precondition, "this server makes no webhook tokens"});
    const std::string token = new_token();
    trigger->token_hash = token_hash(token);
    trigger->updated_at_ms = now_ms;
    if (auto ok = update_trigger(tx, *trigger); !ok) return fail(ok.error());
    return Json{{"trigger", trigger_view(*trigger)},
                {"webhook", {{"path", "/hooks/" + trigger->id}, {"token", token}}}};
  };
  Task<Result<Json>> writing = env_.store->transact_for(std::move(body));
  co_return co_await writing;
}

Task<Result<Json>> TriggerRoutes::events(std::string user_id, std::string id, std::int64_t limit) {
  JsonTransactionBody body = [user_id, id, limit](SqlTransaction& tx) -> Result<Json> {
    auto trigger = find_trigger(tx, user_id, id);
    if (!trigger) return fail(trigger.error());
    auto firings = list_firings(tx, id, limit);
    if (!firings) return fail(firings.error());
    Json out = Json::array();
    for (const auto& f : *firings) out.push_back(firing_view(f));
    return Json{{"trigger_id", id}, {"events", std::move(out)}};
  };
  Task<Result<Json>> reading = env_.store->transact_for(std::move(body));
  co_return co_await reading;
}

Task<std::optional<HttpResponse>> TriggerRoutes::handle(const HttpRequest& request,
                                                        const std::vector<std::string>& parts,
                                                        const std::string& user_id) {
  if (parts.size() < 3 || parts[2] != "triggers" || parts.size() > 5) co_return std::nullopt;
  const std::string& method = request.method;
  std::optional<Task<Result<Json>>> serving;
  int status = 200;
  if (parts.size() == 3 && method == "GET") {
    const auto project = request.query.find("project_id");
    serving.emplace(list(user_id, project == request.query.end()
                                      ? std::nullopt
                                      : std::optional<std::string>(project->second)));
  } else if ((parts.size() == 3 && method == "POST") || (parts.size() == 4 && method == "PUT")) {
    auto json = parse_json_body(request);
    if (!json) co_return error_response(json.error());
    status = parts.size() == 3 ? 201 : 200;
    serving.emplace(parts.size() == 3 ? create(user_id, std::move(*json))
                                      : replace(user_id, parts[3], std::move(*json)));
  } else if (parts.size() == 4 && method == "GET") {
    serving.emplace(get(user_id, parts[3]));
  } else if (parts.size() == 4 && method == "DELETE") {
    serving.emplace(remove(user_id, parts[3]));
  } else if (parts.size() == 5 && method == "POST" &&
             (parts[4] == "enable" || parts[4] == "disable")) {
    serving.emplace(set_enabled(user_id, parts[3], parts[4] == "enable"));
  } else if (parts.size() == 5 && method == "POST" && parts[4] == "fire") {
    status = 202;
    serving.emplace(fire(user_id, parts[3]));
  } else if (parts.size() == 5 && method == "POST" && parts[4] == "rotate") {
    serving.emplace(rotate(user_id, parts[3]));
  } else if (parts.size() == 5 && method == "GET" && parts[4] == "events") {
    std::int64_t limit = 50;
    if (const auto it = request.query.find("limit"); it != request.query.end()) {
      auto parsed = parse_seq(it->second, "limit");
      if (!parsed) co_return error_response(parsed.error());
      limit = *parsed == 0 ? 50 : *parsed;
    }
    serving.emplace(events(user_id, parts[3], limit));
  } else {
    co_return std::nullopt;
  }
  Result<Json> served = co_await std::move(*serving);
  if (!served) co_return error_response(served.error());
  co_return json_response(status, *served);
}

}  // namespace reliant::api
