// `reliant daemon create|list|suspend|resume|delete`: managed daemons through the API server's
// /api/v1/daemons routes (ManagedDaemonCalls), with the user's token like every client command.
#include "app/managed_daemon_commands.h"

#include <cstdio>
#include <memory>
#include <vector>

#include "app/api_client.h"
#include "base/terminal_text.h"
#include "base/url_encoding.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

struct CreateOptions {
  ApiClientOptions api;
  std::string name;
  std::string platform = "local";
  std::vector<std::string> env;     // K=V
  std::vector<std::string> labels;  // K=V
  std::vector<std::string> links;
  std::string permissions;
  std::string image;
  std::string binary;
  bool commands = false;
  bool always_on = false;
};

std::string shown(const std::string& text) { return strip_terminal_controls(text); }

// K=V pairs into a map; `flag` names the option in the error.
Result<Json> pairs(const std::vector<std::string>& given, const std::string& flag) {
  Json out = Json::object();
  for (const auto& pair : given) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return fail(ErrorCode::invalid_argument,
                  flag + " \"" + pair + "\" is not KEY=VALUE (e.g. " + flag + " LOG_LEVEL=info)");
    }
    out[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return out;
}

// One line per daemon: what it is, how it is connected, and for a managed one what its user
// wants and what the control plane last saw.
void print_daemon(const Json& d) {
  std::string line = d.value("id", "") + "  " + d.value("name", "") + "  " + d.value("type", "") +
                     "  " + d.value("status", "");
  if (d.contains("managed")) {
    const Json& m = d["managed"];
    line += "  wanted " + m.value("desiredState", "") + ", seen " + m.value("observedState", "") +
            " on " + m["spec"].value("platform", "local");
    if (!m.value("lastError", "").empty()) line += " (" + m.value("lastError", "") + ")";
  }
  std::printf("%s\n", shown(line).c_str());
}

int create(const CreateOptions& o) {
  auto env = pairs(o.env, "--env");
  if (!env) return report_api_error(env.error());
  auto labels = pairs(o.labels, "--label");
  if (!labels) return report_api_error(labels.error());
  Json spec = {
      {"name", o.name},          {"platform", o.platform}, {"env", *env},
      {"labels", *labels},       {"links", o.links},       {"commands_enabled", o.commands},
      {"always_on", o.always_on}};
  if (!o.permissions.empty()) spec["permissions"] = o.permissions;
  if (!o.image.empty()) spec["code_image"] = o.image;
  if (!o.binary.empty()) spec["code_binary"] = o.binary;
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto created = client->call("POST", "/api/v1/daemons", spec);
  if (!created) return report_api_error(created.error());
  print_daemon((*created)["daemon"]);
  return 0;
}

int list(const ApiClientOptions& api) {
  auto client = ApiClient::open(api);
  if (!client) return report_api_error(client.error());
  auto listed = client->call("GET", "/api/v1/daemons");
  if (!listed) return report_api_error(listed.error());
  for (const auto& daemon : listed->value("daemons", Json::array())) print_daemon(daemon);
  return 0;
}

// suspend, resume (POST …/{daemon}/VERB) and delete (DELETE …/{daemon}).
int change(const ApiClientOptions& api, const std::string& daemon, const std::string& verb) {
  auto client = ApiClient::open(api);
  if (!client) return report_api_error(client.error());
  const std::string path = "/api/v1/daemons/" + url_encode(daemon);
  auto changed = verb == "delete" ? client->call("DELETE", path)
                                  : client->call("POST", path + "/" + verb, Json::object());
  if (!changed) return report_api_error(changed.error());
  print_daemon((*changed)["daemon"]);
  return 0;
}

}  // namespace

void add_managed_daemon_commands(CLI::App& daemon, int& exit_code) {
  auto o = std::make_shared<CreateOptions>();
  auto* create_command = daemon.add_subcommand(
      "create", "Ask the control plane for a managed daemon (it provisions and keeps it)");
  add_api_client_options(*create_command, o->api);
  create_command->add_option("name", o->name, "Its name: lowercase letters, digits and '-'")
      ->required();
  create_command
      ->add_option("--platform", o->platform, "local, kubernetes (aws, gcp, azure: not yet)")
      ->capture_default_str();
  create_command->add_option("--env", o->env, "KEY=VALUE for its process (repeatable)");
  create_command->add_option("--label", o->labels, "KEY=VALUE for selectors (repeatable)");
  create_command->add_option("--link", o->links, "A project id or path it may reach (repeatable)");
  create_command->add_option("--permissions", o->permissions,
                             "Its permission profile: execution or read-only (required)");
  create_command->add_option("--image", o->image, "An OCI image to run it from");
  create_command->add_option("--binary", o->binary, "A binary to run (default: reliant's own)");
  create_command->add_flag("--commands", o->commands, "It polls the control plane for commands");
  create_command->add_flag("--always-on", o->always_on, "Never suspend it for being idle");
  create_command->callback([o, &exit_code] { exit_code = create(*o); });

  auto api = std::make_shared<ApiClientOptions>();
  auto* list_command = daemon.add_subcommand("list", "Your daemons: local and managed");
  add_api_client_options(*list_command, *api);
  list_command->callback([api, &exit_code] { exit_code = list(*api); });

  for (const char* verb : {"suspend", "resume", "delete"}) {
    auto options = std::make_shared<ApiClientOptions>();
    auto name = std::make_shared<std::string>();
    const std::string what = std::string(verb) == "suspend"  ? "Suspend a managed daemon"
                             : std::string(verb) == "resume" ? "Resume a suspended managed daemon"
                                                             : "Delete a managed daemon";
    auto* command = daemon.add_subcommand(verb, what);
    add_api_client_options(*command, *options);
    command->add_option("daemon", *name, "Its name or id")->required();
    command->callback([options, name, verb = std::string(verb), &exit_code] {
      exit_code = change(*options, *name, verb);
    });
  }
}

}  // namespace reliant
