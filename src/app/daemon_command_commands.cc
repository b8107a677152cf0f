// The command CLI: send queues and (unless --no-wait) follows the command until it ends, so a
// script sees the handler's result and its exit status says how it went.
#include "app/daemon_command_commands.h"

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "app/api_client.h"
#include "base/json_parse.h"
#include "base/terminal_text.h"
#include "base/url_encoding.h"
#include "core/queued_command.h"

namespace reliant {
namespace {

using Json = nlohmann::json;

struct SendOptions {
  ApiClientOptions api;
  std::string daemon;
  std::string name;
  std::string args = "{}";
  bool no_wait = false;
  double wait_s = 120;
};

// Exit statuses of `send`: the command failed on the daemon; or it had not ended in time.
constexpr int kCommandFailed = 1;
constexpr int kCommandStillRunning = 3;

std::string commands_path(const std::string& daemon) {
  return "/api/v1/daemons/" + url_encode(daemon) + "/commands";
}

void print_command(const Json& c) {
  std::string line = c.value("id", "") + "  " + c.value("name", "") + "  " + c.value("state", "");
  if (c.value("deliveries", 0) > 1)
    line += " (delivered " + std::to_string(c.value("deliveries", 0)) + " times)";
  if (c.contains("error")) line += "  " + c.value("error", "");
  std::printf("%s\n", strip_terminal_controls(line).c_str());
  if (c.contains("result"))
    std::printf("%s\n", strip_terminal_controls(c["result"].dump(2)).c_str());
}

bool ended(const Json& c) {
  const auto state = value_named(kCommandStateNames, c.value("state", ""));
  return state && command_ended(*state);
}

int send(const SendOptions& o) {
  auto args = parse_json(o.args);
  if (!args || !args->is_object()) {
    return report_api_error(
        {ErrorCode::invalid_argument,
         "--args must be a JSON object" + (args ? std::string() : ": " + args.error().message)});
  }
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto sent = client->call("POST", commands_path(o.daemon), {{"name", o.name}, {"args", *args}});
  if (!sent) return report_api_error(sent.error());
  Json command = (*sent)["command"];
  const std::string path = commands_path(o.daemon) + "/" + url_encode(command.value("id", ""));
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<std::int64_t>(o.wait_s * 1000));
  while (!o.no_wait && !ended(command) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto read = client->call("GET", path);
    if (!read) return report_api_error(read.error());
    command = (*read)["command"];
  }
  print_command(command);
  if (o.no_wait) return 0;
  if (!ended(command)) {
    std::fprintf(stderr,
                 "the command has not ended after %.0f s; follow it with `reliant daemon "
                 "command show %s %s`\n",
                 o.wait_s, strip_terminal_controls(o.daemon).c_str(),
                 command.value("id", "").c_str());
    return kCommandStillRunning;
  }
  return command.value("state", "") == "succeeded" ? 0 : kCommandFailed;
}

int list(const ApiClientOptions& api, const std::string& daemon) {
  auto client = ApiClient::open(api);
  if (!client) return report_api_error(client.error());
  auto listed = client->call("GET", commands_path(daemon));
  if (!listed) return report_api_error(listed.error());
  for (const auto& c : listed->value("commands", Json::array())) print_command(c);
  return 0;
}

int show(const ApiClientOptions& api, const std::string& daemon, const std::string& id) {
  auto client = ApiClient::open(api);
  if (!client) return report_api_error(client.error());
  auto read = client->call("GET", commands_path(daemon) + "/" + url_encode(id));
  if (!read) return report_api_error(read.error());
  print_command((*read)["command"]);
  return 0;
}

}  // namespace

void add_daemon_command_commands(CLI::App& daemon, int& exit_code) {
  auto* command = daemon.add_subcommand(
      "command", "Commands for a managed daemon with commands enabled: reload, restart, run_tool");
  command->require_subcommand(1);

  auto o = std::make_shared<SendOptions>();
  auto* send_command = command->add_subcommand(
      "send", "Queue a command and wait for how it ended (exit 1: it failed, 3: still running)");
  add_api_client_options(*send_command, o->api);
  send_command->add_option("daemon", o->daemon, "The daemon's name or id")->required();
  send_command->add_option("name", o->name, "reload, restart or run_tool")->required();
  send_command
      ->add_option("--args", o->args,
                   "A JSON object; run_tool: {\"tool\": NAME, \"input\": {…}, "
                   "\"timeout_s\": N}")
      ->capture_default_str();
  send_command->add_flag("--no-wait", o->no_wait, "Print the queued command and return");
  send_command->add_option("--wait", o->wait_s, "Seconds to wait for it to end")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  send_command->callback([o, &exit_code] { exit_code = send(*o); });

  auto api = std::make_shared<ApiClientOptions>();
  auto listed_daemon = std::make_shared<std::string>();
  auto* list_command = command->add_subcommand("list", "The daemon's commands, newest first");
  add_api_client_options(*list_command, *api);
  list_command->add_option("daemon", *listed_daemon, "The daemon's name or id")->required();
  list_command->callback(
      [api, listed_daemon, &exit_code] { exit_code = list(*api, *listed_daemon); });

  auto show_api = std::make_shared<ApiClientOptions>();
  auto shown = std::make_shared<std::pair<std::string, std::string>>();
  auto* show_command = command->add_subcommand("show", "One command: its state and result");
  add_api_client_options(*show_command, *show_api);
  show_command->add_option("daemon", shown->first, "The daemon's name or id")->required();
  show_command->add_option("id", shown->second, "The command's id")->required();
  show_command->callback(
      [show_api, shown, &exit_code] { exit_code = show(*show_api, shown->first, shown->second); });
}

}  // namespace reliant
