// `reliant trigger create|update|list|get|enable|disable|fire|events|delete`: a user's triggers
// over REST (/api/v1/triggers). A trigger is named by its id or its name (unique per project;
// a name several projects use is refused as ambiguous, with the ids). Exit 0 on success, 1 when
// the server refuses (its message says why: an invalid cron, an unknown zone, a workflow that
// does not validate …), 2 when it cannot be reached or the arguments are wrong.
#include "app/trigger_commands.h"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/json_parse.h"
#include "base/terminal_text.h"
#include "base/url_encoding.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

struct TriggerOptions {
  ApiClientOptions api;
  std::string target;  // id or name
  std::string name;
  std::string project;
  std::string workflow = "builtin://agent";
  std::string message;
  std::string declaration;
  std::vector<std::string> cron;
  std::string interval;
  std::string timezone;
  std::string overlap;
  std::string catch_up;
  std::string catchup_window;
  std::string jitter;
  bool webhook = false;
  std::string hmac_header;
  std::string hmac_algorithm;
  std::string hmac_prefix;
  std::string hmac_encoding;
  std::string secret_file;
  std::vector<std::string> event_workflows;
  std::vector<std::string> event_outcomes;
  std::string filter;
  std::string prompt;
  std::vector<std::string> inputs;  // name=template
  std::vector<std::string> params;  // key=value (JSON, else text)
  std::optional<bool> disabled;
  std::int64_t limit = 20;
  bool json = false;
};

std::string when(const Json& ms) {
  if (!ms.is_number_integer()) return "-";
  const std::time_t seconds = static_cast<std::time_t>(ms.get<std::int64_t>() / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &utc);
  return text;
}

// "k=v" pairs into an object; values as JSON when they parse, else text.
Result<Json> pairs(const std::vector<std::string>& items, const std::string& flag, bool as_json) {
  Json out = Json::object();
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(ErrorCode::invalid_argument, flag + " \"" + item + "\" must be key=value");
    }
    const std::string value = item.substr(eq + 1);
    const Json parsed = as_json ? parse_json_or_discarded(value) : Json(Json::value_t::discarded);
    out[item.substr(0, eq)] = parsed.is_discarded() ? Json(value) : parsed;
  }
  return out;
}

// The source the flags describe: a schedule, a webhook or a workflow event.
Result<std::pair<std::string, Json>> source_of(const TriggerOptions& o) {
  const int kinds = (!o.cron.empty() || !o.interval.empty() ? 1 : 0) + (o.webhook ? 1 : 0) +
                    (!o.event_workflows.empty() || !o.event_outcomes.empty() ? 1 : 0);
  if (kinds != 1) {
    return fail(ErrorCode::invalid_argument,
                "say what fires it: --cron/--interval (a schedule), --webhook, or "
                "--on-workflow/--on-outcome (a workflow event); or --declaration NAME");
  }
  if (o.webhook) {
    Json hook = Json::object();
    if (!o.hmac_header.empty() || !o.hmac_algorithm.empty() || !o.hmac_prefix.empty() ||
        !o.hmac_encoding.empty() || !o.secret_file.empty()) {
      Json hmac = Json::object();
      if (!o.hmac_header.empty()) hmac["header"] = o.hmac_header;
      if (!o.hmac_algorithm.empty()) hmac["algorithm"] = o.hmac_algorithm;
      if (!o.hmac_prefix.empty()) hmac["prefix"] = o.hmac_prefix;
      if (!o.hmac_encoding.empty()) hmac["encoding"] = o.hmac_encoding;
      hook["hmac"] = hmac;
    }
    return std::pair{std::string("webhook"), hook};
  }
  if (!o.event_workflows.empty() || !o.event_outcomes.empty()) {
    return std::pair{std::string("workflow_event"),
                     Json{{"workflows", o.event_workflows}, {"outcomes", o.event_outcomes}}};
  }
  Json schedule = Json::object();
  if (!o.cron.empty()) schedule["cron"] = o.cron;
  for (const auto& [key, value] :
       {std::pair{"interval", o.interval}, std::pair{"timezone", o.timezone},
        std::pair{"overlap", o.overlap}, std::pair{"catch_up", o.catch_up},
        std::pair{"catchup_window", o.catchup_window}, std::pair{"jitter", o.jitter}}) {
    if (!value.empty()) schedule[key] = value;
  }
  return std::pair{std::string("schedule"), schedule};
}

Result<Json> trigger_body(const TriggerOptions& o) {
  Json body{{"workflow", o.workflow}};
  if (!o.name.empty()) body["name"] = o.name;
  if (!o.project.empty()) body["project_id"] = o.project;
  if (!o.message.empty()) body["message"] = o.message;
  if (o.disabled) body["enabled"] = !*o.disabled;
  auto params = pairs(o.params, "--param", true);
  if (!params) return fail(params.error());
  if (!params->empty()) body["params"] = std::move(*params);
  if (!o.secret_file.empty()) {
    std::ifstream in(o.secret_file);
    if (!in) return fail(ErrorCode::invalid_argument, "cannot read --secret-file " + o.secret_file);
    std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    body["secret"] = secret;
  }
  if (!o.declaration.empty()) {
    body["declaration"] = o.declaration;
    return body;
  }
  auto source = source_of(o);
  if (!source) return fail(source.error());
  body[source->first] = source->second;
  if (!o.filter.empty()) body["filter"] = o.filter;
  if (!o.prompt.empty()) body["prompt"] = o.prompt;
  auto inputs = pairs(o.inputs, "--input", false);
  if (!inputs) return fail(inputs.error());
  if (!inputs->empty()) body["inputs"] = std::move(*inputs);
  return body;
}

// The trigger an argument names: an id, else a name (one trigger's, across projects).
Result<Json> resolve(const ApiClient& client, const std::string& target) {
  auto by_id = client.call("GET", "/api/v1/triggers/" + url_encode(target));
  if (by_id) return by_id;
  // A refusal comes back as the server's message: only "no such id" falls back to names.
  if (by_id.error().message.find("answered 404") == std::string::npos) return fail(by_id.error());
  auto listed = client.call("GET", "/api/v1/triggers");
  if (!listed) return fail(listed.error());
  std::vector<Json> named;
  for (const auto& t : listed->value("triggers", Json::array())) {
    if (t.value("name", "") == target) named.push_back(t);
  }
  if (named.size() == 1) return named.front();
  if (named.empty())
    return fail(ErrorCode::not_found, "no trigger with id or name \"" + target + "\"");
  std::string ids;
  for (const auto& t : named) ids += " " + t.value("id", "");
  return fail(ErrorCode::invalid_argument,
              "\"" + target + "\" names triggers in several projects: use an id:" + ids);
}

std::string source_text(const Json& t) {
  const Json spec = t.value("spec", Json::object());
  if (t.value("kind", "") == "schedule") {
    const Json s = spec.value("schedule", Json::object());
    std::string text = s.contains("cron") ? s["cron"].dump() : "";
    if (s.contains("interval"))
      text += (text.empty() ? "every " : " + every ") + s.value("interval", "");
    if (s.contains("timezone")) text += " " + s.value("timezone", "");
    return text;
  }
  if (t.value("kind", "") == "webhook") return t.value("webhook_path", "");
  return "on " + spec.value("workflow_event", Json::object()).dump();
}

void print_trigger(const Json& t) {
  std::printf("%s\n",
              strip_terminal_controls(t.value("id", "") + "  " + t.value("name", "") + "  " +
                                      (t.value("enabled", false) ? "enabled" : "disabled") + "  " +
                                      t.value("kind", "") + "  " + source_text(t) + "  → " +
                                      t.value("workflow", "") +
                                      "  next: " + when(t.value("next_fire_at_ms", Json())))
                  .c_str());
}

int create_or_update(const ApiClient& client, const TriggerOptions& o, bool create) {
  auto body = trigger_body(o);
  if (!body) return report_api_error(body.error());
  Result<Json> done = Json();
  if (create) {
    done = client.call("POST", "/api/v1/triggers", *body);
  } else {
    auto existing = resolve(client, o.target);
    if (!existing) return report_api_error(existing.error());
    done = client.call("PUT", "/api/v1/triggers/" + url_encode(existing->value("id", "")), *body);
  }
  if (!done) return report_api_error(done.error());
  if (o.json) {
    std::printf("%s\n", done->dump(2).c_str());
    return 0;
  }
  print_trigger(done->value("trigger", Json::object()));
  if (done->contains("webhook")) {
    const Json hook = (*done)["webhook"];
    // Shown once: the server keeps only its hash.
    std::printf("webhook: POST %s on this server\ntoken (shown once): %s\n",
                strip_terminal_controls(hook.value("path", "")).c_str(),
                strip_terminal_controls(hook.value("token", "")).c_str());
  }
  return 0;
}

int list_triggers(const ApiClient& client, const TriggerOptions& o) {
  const std::string query = o.project.empty() ? "" : "?project_id=" + url_encode(o.project);
  auto listed = client.call("GET", "/api/v1/triggers" + query);
  if (!listed) return report_api_error(listed.error());
  if (o.json) {
    std::printf("%s\n", listed->dump(2).c_str());
    return 0;
  }
  const Json triggers = listed->value("triggers", Json::array());
  if (triggers.empty()) std::printf("No triggers.\n");
  for (const auto& t : triggers) print_trigger(t);
  return 0;
}

int show_events(const ApiClient& client, const TriggerOptions& o) {
  auto trigger = resolve(client, o.target);
  if (!trigger) return report_api_error(trigger.error());
  auto listed = client.call("GET", "/api/v1/triggers/" + url_encode(trigger->value("id", "")) +
                                       "/events?limit=" + std::to_string(o.limit));
  if (!listed) return report_api_error(listed.error());
  if (o.json) {
    std::printf("%s\n", listed->dump(2).c_str());
    return 0;
  }
  const Json events = listed->value("events", Json::array());
  if (events.empty()) std::printf("No firings yet.\n");
  for (const auto& e : events) {
    std::printf("%s\n", strip_terminal_controls(
                            when(e.value("instant_ms", Json())) + "  " + e.value("status", "") +
                            "  " + e.value("kind", "") + "  " +
                            (e.value("run_id", "").empty() ? "-" : e.value("run_id", "")) + "  " +
                            e.value("detail", ""))
                            .c_str());
  }
  return 0;
}

// enable, disable, fire, get, delete: one call on the trigger the argument names.
int act(const ApiClient& client, const TriggerOptions& o, const std::string& verb) {
  auto trigger = resolve(client, o.target);
  if (!trigger) return report_api_error(trigger.error());
  const std::string path = "/api/v1/triggers/" + url_encode(trigger->value("id", ""));
  if (verb == "get") {
    std::printf("%s\n", strip_terminal_controls(trigger->dump(2)).c_str());
    return 0;
  }
  auto done = verb == "delete" ? client.call("DELETE", path)
                               : client.call("POST", path + "/" + verb, Json::object());
  if (!done) return report_api_error(done.error());
  if (verb == "fire") {
    std::printf("fired %s: %s%s\n", strip_terminal_controls(trigger->value("name", "")).c_str(),
                strip_terminal_controls(done->value("status", "")).c_str(),
                done->value("run_id", "").empty()
                    ? ""
                    : strip_terminal_controls(" (run " + done->value("run_id", "") + ")").c_str());
    return 0;
  }
  std::printf("%s %s\n", verb == "delete" ? "deleted" : (verb + "d").c_str(),
              strip_terminal_controls(trigger->value("name", "")).c_str());
  return 0;
}

void add_definition_options(CLI::App& command, TriggerOptions& o) {
  command.add_option("--name", o.name, "Unique per project (default: the declaration's name)");
  command.add_option("--project", o.project, "The project (its id) whose workflow it runs");
  command.add_option("--workflow", o.workflow, "builtin://NAME or the project's workflow")
      ->capture_default_str();
  command.add_option("--message", o.message, "The run's first message");
  command.add_option("--declaration", o.declaration,
                     "Activate the workflow's own `triggers:` entry of this name");
  command.add_option("--cron", o.cron, "A five-field cron expression (repeatable: a union)");
  command.add_option("--interval", o.interval, "Every this long (30m, 2s; at least 1s)");
  command.add_option("--timezone", o.timezone, "The IANA zone crons are read in (default UTC)");
  command.add_option("--overlap", o.overlap, "While its last run runs: skip|queue|cancel|allow");
  command.add_option("--catch-up", o.catch_up, "After downtime: none|one|all");
  command.add_option("--catchup-window", o.catchup_window, "How late a missed firing may run");
  command.add_option("--jitter", o.jitter, "A firing is due up to this long after its time");
  command.add_flag("--webhook", o.webhook, "Fired by POST /hooks/ID (a token is shown once)");
  command.add_option("--hmac-header", o.hmac_header, "The header carrying the body's HMAC");
  command.add_option("--hmac-algorithm", o.hmac_algorithm, "sha256|sha1|sha512");
  command.add_option("--hmac-prefix", o.hmac_prefix, "Before the signature, as \"sha256=\"");
  command.add_option("--hmac-encoding", o.hmac_encoding, "hex|base64");
  command.add_option("--secret-file", o.secret_file, "A file holding the HMAC secret");
  command.add_option("--on-workflow", o.event_workflows,
                     "Fired when a run of this workflow ends (repeatable)");
  command.add_option("--on-outcome", o.event_outcomes, "finished|failed|blocked (repeatable)");
  command.add_option("--filter", o.filter, "CEL over `trigger`: fire only when it holds");
  command.add_option("--prompt", o.prompt, "A template over `trigger`: the run's first message");
  command.add_option("--input", o.inputs, "name=template over `trigger` (repeatable)");
  command.add_option("--param", o.params, "key=value input of every run (repeatable)");
  command.add_flag("--disabled,!--enabled", o.disabled, "Create or leave it disabled");
  command.add_flag("--json", o.json, "Print the server's JSON");
}

}  // namespace

void add_trigger_commands(CLI::App& app, int& exit_code) {
  auto* trigger = app.add_subcommand(
      "trigger", "Triggers that start runs: schedules, webhooks and workflow events");
  trigger->require_subcommand(1);
  auto o = std::make_shared<TriggerOptions>();
  const auto verb = [trigger, &exit_code, o](
                        const std::string& name, const std::string& help, bool takes_target,
                        std::function<int(const ApiClient&, const TriggerOptions&)> run) {
    auto* command = trigger->add_subcommand(name, help);
    add_api_client_options(*command, o->api);
    if (takes_target) command->add_option("trigger", o->target, "Its id or name")->required();
    command->callback([o, &exit_code, run] {
      auto client = ApiClient::open(o->api);
      exit_code = client ? run(*client, *o) : report_api_error(client.error());
    });
    return command;
  };
  add_definition_options(*verb("create", "Create a trigger", false,
                               [](const ApiClient& c, const TriggerOptions& t) {
                                 return create_or_update(c, t, true);
                               }),
                         *o);
  add_definition_options(
      *verb("update", "Replace a trigger's definition (a full replacement)", true,
            [](const ApiClient& c, const TriggerOptions& t) {
              return create_or_update(c, t, false);
            }),
      *o);
  auto* list = verb("list", "List your triggers", false, list_triggers);
  list->add_option("--project", o->project, "Only this project's");
  list->add_flag("--json", o->json, "Print the server's JSON");
  auto* events = verb("events", "A trigger's firings, newest first", true, show_events);
  events->add_option("--limit", o->limit, "How many (default 20)");
  events->add_flag("--json", o->json, "Print the server's JSON");
  for (const std::string name : {"get", "enable", "disable", "fire", "delete"}) {
    verb(name,
         name == "get"       ? "Show a trigger"
         : name == "enable"  ? "Enable a trigger (a schedule goes on from now)"
         : name == "disable" ? "Disable a trigger (its definition and firings are kept)"
         : name == "fire"    ? "Fire a trigger now, whatever its filter and overlap say"
                             : "Delete a trigger (its firings are kept)",
         true, [name](const ApiClient& c, const TriggerOptions& t) { return act(c, t, name); });
  }
}

}  // namespace reliant
