// `reliant mcp servers|tools|call`: the daemon's MCP client (services/daemon/mcp) on this
// machine, for users checking their mcp.json and for tests against servers nobody here wrote.
//
//   reliant mcp servers [--dir DIR]                      status of every configured server
//   reliant mcp tools [--server NAME] [-- COMMAND ARG…]  a server's tools, one a line
//   reliant mcp call TOOL [--arguments JSON] [--server NAME] [-- COMMAND ARG…]
//
// TOOL is the server's own name for it (or mcp__<server>__<tool>). A server given after `--` runs
// as a stdio server named "cli". Exit codes: 0 done; 1 the tool reported an error (isError);
// 2 nothing could be asked (a bad argument, a server that does not start or answer).
#include "app/mcp_command.h"

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/asio/asio_executor.h"
#include "adapters/host/posix_host.h"
#include "app/mcp_files.h"
#include "app/run_blocking.h"
#include "app/secure_random.h"
#include "base/json_parse.h"
#include "runtime/env.h"
#include "runtime/random.h"
#include "services/daemon/mcp/mcp_servers.h"

namespace reliant {
namespace {

constexpr int kToolFailed = 1;
constexpr int kNotAsked = 2;

struct McpOptions {
  std::string dir;     // the project whose .reliant files are read; empty: the current one
  std::string server;  // a configured server's name
  std::vector<std::string> command;  // after --: an ad-hoc stdio server
  std::string tool;
  std::string arguments = "{}";
  double timeout_s = 60;
  bool json = false;
};

int refuse(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return kNotAsked;
}

// The servers to talk to: the ad-hoc one, or the configured ones (only `only` when named).
Result<std::map<std::string, mcp::McpServerConfig>> servers_of(const McpOptions& o) {
  if (!o.command.empty()) {
    mcp::McpServerConfig server;
    server.name = "cli";
    server.command = o.command.front();
    server.args.assign(o.command.begin() + 1, o.command.end());
    return std::map<std::string, mcp::McpServerConfig>{{"cli", server}};
  }
  const std::string dir = o.dir.empty() ? std::filesystem::current_path().string() : o.dir;
  auto configured = load_mcp_files(dir);
  if (!configured) return fail(configured.error());
  if (o.server.empty()) return configured;
  auto found = configured->find(o.server);
  if (found == configured->end()) {
    std::string names;
    for (const auto& [name, server] : *configured) names += (names.empty() ? "" : ", ") + name;
    return fail(ErrorCode::not_found, "no MCP server named " + o.server + " in the mcp.json files" +
                                          (names.empty() ? " (none configured)" : " (" + names + ")"));
  }
  return std::map<std::string, mcp::McpServerConfig>{{o.server, found->second}};
}

struct Session {
  AsioExecutor executor;
  Random random{secure_random_u64()};
  PosixHost host;
  Env env;
  mcp::McpServers servers;

  explicit Session(const McpOptions& o)
      : host(executor, PosixHostOptions{std::filesystem::current_path().string(), {}, {}}),
        env{executor, random, nullptr, nullptr, nullptr, &host},
        servers(env, host, options_of(o)) {}

  static mcp::McpServersOptions options_of(const McpOptions& o) {
    mcp::McpServersOptions options;
    options.restarts_max = 0;  // one attempt: a command-line check says what happened
    options.client.initialize_timeout = milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000));
    options.client.request_timeout = options.client.initialize_timeout;
    return options;
  }
};

std::string unhealthy_reasons(const mcp::McpServers& servers) {
  std::string out;
  for (const auto& view : servers.list()) {
    if (view.status == mcp::McpServerStatus::unhealthy) {
      out += (out.empty() ? "" : "; ") + view.name + ": " + view.error;
    }
  }
  return out;
}

int run_servers(const McpOptions& o) {
  auto configured = servers_of(o);
  if (!configured) return refuse(configured.error().message);
  Session session(o);
  session.servers.configure(*configured);
  const auto tools = run_blocking(session.executor, session.servers.tools());
  for (const auto& view : session.servers.list()) {
    if (o.json) {
      std::printf("%s\n", nlohmann::json{{"name", view.name},
                                         {"status", std::string(mcp::to_string(view.status))},
                                         {"error", view.error},
                                         {"tools", view.tools},
                                         {"server", view.server_name},
                                         {"version", view.server_version},
                                         {"protocol", view.protocol_version},
                                         {"source", view.source}}
                              .dump()
                              .c_str());
    } else {
      std::printf("%-20s %-12s %3zu tools  %s\n", view.name.c_str(),
                  std::string(mcp::to_string(view.status)).c_str(), view.tools,
                  view.error.empty() ? (view.server_name + " " + view.server_version).c_str()
                                     : view.error.c_str());
    }
  }
  return unhealthy_reasons(session.servers).empty() ? 0 : kToolFailed;
}

int run_tools(const McpOptions& o) {
  auto configured = servers_of(o);
  if (!configured) return refuse(configured.error().message);
  Session session(o);
  session.servers.configure(*configured);
  const auto tools = run_blocking(session.executor, session.servers.tools());
  if (const std::string why = unhealthy_reasons(session.servers); !why.empty() && tools.empty()) {
    return refuse(why);
  }
  for (const auto& tool : tools) {
    if (o.json) {
      std::printf("%s\n", nlohmann::json{{"name", tool.name},
                                         {"tool", tool.tool},
                                         {"description", tool.description},
                                         {"input_schema", tool.input_schema}}
                              .dump()
                              .c_str());
    } else {
      std::printf("%s\t%s\n", tool.name.c_str(), tool.description.c_str());
    }
  }
  return 0;
}

int run_call(const McpOptions& o) {
  const auto arguments = parse_json_or_discarded(o.arguments);
  if (arguments.is_discarded() || !arguments.is_object()) {
    return refuse("--arguments must be a JSON object, e.g. '{\"message\":\"hi\"}'");
  }
  auto configured = servers_of(o);
  if (!configured) return refuse(configured.error().message);
  if (configured->size() != 1 && !o.tool.starts_with(mcp::kMcpToolPrefix)) {
    return refuse("name the server: --server NAME, mcp__<server>__<tool>, or -- COMMAND");
  }
  const std::string exposed = o.tool.starts_with(mcp::kMcpToolPrefix)
                                  ? o.tool
                                  : mcp::exposed_name(configured->begin()->first, o.tool);
  Session session(o);
  session.servers.configure(*configured);
  const auto outcome = run_blocking(
      session.executor,
      session.servers.call(exposed, arguments,
                           milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000))));
  if (o.json) {
    std::printf("%s\n", nlohmann::json{{"is_error", outcome.is_error},
                                       {"error_code", outcome.error_code},
                                       {"text", outcome.text}}
                            .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                            .c_str());
  } else {
    std::printf("%s\n", outcome.text.c_str());
  }
  if (!outcome.is_error) return 0;
  return outcome.error_code == "failed" ? kToolFailed : kNotAsked;
}

}  // namespace

void add_mcp_commands(CLI::App& app, int& exit_code) {
  auto* mcp = app.add_subcommand("mcp", "MCP servers as the daemon runs them: status, tools, calls");
  mcp->require_subcommand(1);
  auto o = std::make_shared<McpOptions>();
  const auto common = [o](CLI::App* command) {
    command->add_option("--dir", o->dir, "The project whose .reliant/mcp.json files are read");
    command->add_option("--timeout", o->timeout_s, "Seconds to wait for the server's answers")
        ->check(CLI::PositiveNumber);
    command->add_flag("--json", o->json, "One JSON object a line");
  };
  auto* servers = mcp->add_subcommand("servers", "Start every configured server and show its status");
  common(servers);
  servers->callback([o, &exit_code] { exit_code = run_servers(*o); });
  auto* tools = mcp->add_subcommand("tools", "List a server's tools (exposed as mcp__<server>__<tool>)");
  common(tools);
  tools->add_option("--server", o->server, "A configured server (default: all)");
  tools->add_option("command", o->command, "An ad-hoc stdio server: -- COMMAND [ARG...]");
  tools->callback([o, &exit_code] { exit_code = run_tools(*o); });
  auto* call = mcp->add_subcommand("call", "Call one tool and print its result");
  common(call);
  call->add_option("tool", o->tool, "The tool")->required();
  call->add_option("--arguments,-a", o->arguments, "The tool's arguments, a JSON object");
  call->add_option("--server", o->server, "A configured server");
  call->add_option("command", o->command, "An ad-hoc stdio server: -- COMMAND [ARG...]");
  call->callback([o, &exit_code] { exit_code = run_call(*o); });
}

}  // namespace reliant
