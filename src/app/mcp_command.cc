// `reliant mcp servers|tools|call`: the daemon's MCP client (services/daemon/mcp) on this
// machine, for users checking their mcp.json and for tests against servers nobody here wrote.
//
//   reliant mcp servers [--dir DIR]                      status of every configured server
//   reliant mcp tools [--server NAME] [-- COMMAND ARG…]  a server's tools, one a line
//   reliant mcp call TOOL [--arguments JSON] [--server NAME] [-- COMMAND ARG…]
//   reliant mcp conformance URL                         the client MCP's conformance suite drives
//
// TOOL is the server's own name for it (or mcp__<server>__<tool>). A server given after `--` runs
// as a stdio server named "cli"; one given with --url URL [--transport http|sse] is reached over
// Streamable HTTP (or the older HTTP+SSE) under the same name. Exit codes: 0 done; 1 the tool
// reported an error (isError); 2 nothing could be asked (a bad argument, a server that does not
// start or answer).
#include "app/mcp_command.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/asio/asio_executor.h"
#include "adapters/host/posix_host.h"
#include "adapters/llm/outbound_http.h"
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
  std::string url;                   // an ad-hoc HTTP server
  std::string transport = "http";    // its transport: http (Streamable HTTP) or sse
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
  if (!o.url.empty()) {
    if (o.transport != "http" && o.transport != "sse") {
      return fail(ErrorCode::invalid_argument, "--transport is http or sse, not " + o.transport);
    }
    mcp::McpServerConfig server;
    server.name = "cli";
    server.type = o.transport;
    server.url = o.url;
    return std::map<std::string, mcp::McpServerConfig>{{"cli", server}};
  }
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
  llm::OutboundHttpClient http{executor};
  Env env;
  mcp::McpServers servers;

  explicit Session(const McpOptions& o, mcp::McpClientOptions client = {})
      : host(executor, PosixHostOptions{std::filesystem::current_path().string(), {}, {}}),
        env{executor, random, nullptr, nullptr, nullptr, &host},
        servers(env, host, options_of(o, std::move(client), &http)) {}

  static mcp::McpServersOptions options_of(const McpOptions& o, mcp::McpClientOptions client,
                                           HttpClient* http) {
    mcp::McpServersOptions options;
    options.client = std::move(client);
    options.http = http;
    options.restarts_max = 0;  // one attempt: a command-line check says what happened
    options.client.initialize_timeout = milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000));
    options.client.request_timeout = options.client.initialize_timeout;
    options.call_timeout = options.client.initialize_timeout;
    // A check waits for every server to start or fail (a second past its handshake's bound).
    options.tools_wait = options.client.initialize_timeout + seconds(1);
    options.result_limit_bytes = 0;  // the whole result: it is printed, not stored
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

// Arguments a tool's input schema accepts: every required property, of its type.
nlohmann::json arguments_for(const nlohmann::json& schema) {
  nlohmann::json out = nlohmann::json::object();
  if (!schema.is_object() || !schema.contains("required") || !schema["required"].is_array()) {
    return out;
  }
  const nlohmann::json properties =
      schema.contains("properties") ? schema["properties"] : nlohmann::json::object();
  for (const auto& name : schema["required"]) {
    if (!name.is_string()) continue;
    const std::string key = name.get<std::string>();
    const std::string type =
        properties.contains(key) ? text_field(properties[key], "type", "string") : "string";
    if (type == "number" || type == "integer") {
      out[key] = 1;
    } else if (type == "boolean") {
      out[key] = true;
    } else if (type == "object") {
      out[key] = nlohmann::json::object();
    } else if (type == "array") {
      out[key] = nlohmann::json::array();
    } else {
      out[key] = "test";
    }
  }
  return out;
}

// An elicitation accepted with what its schema gives as defaults (nobody is at the keyboard).
nlohmann::json accept_with_defaults(const nlohmann::json& params) {
  nlohmann::json content = nlohmann::json::object();
  const nlohmann::json schema =
      params.is_object() && params.contains("requestedSchema") ? params["requestedSchema"]
                                                                : nlohmann::json::object();
  if (schema.is_object() && schema.contains("properties") && schema["properties"].is_object()) {
    for (const auto& [name, property] : schema["properties"].items()) {
      if (property.is_object() && property.contains("default")) content[name] = property["default"];
    }
  }
  return {{"action", "accept"}, {"content", content}};
}

// The client the MCP conformance suite drives (`conformance client --command "reliant mcp
// conformance"`): it connects to the URL over Streamable HTTP, lists the tools and calls each
// with arguments made from its schema, accepting any elicitation with the schema's defaults.
// The suite names its scenario in MCP_CONFORMANCE_SCENARIO; this client does the same for all.
int run_conformance(McpOptions o) {
  const char* scenario = std::getenv("MCP_CONFORMANCE_SCENARIO");
  std::fprintf(stderr, "conformance scenario %s against %s\n", scenario ? scenario : "(none)",
               o.url.c_str());
  mcp::McpClientOptions client;
  client.client_name = "reliant-conformance";
  client.on_elicitation = accept_with_defaults;
  Session session(o, client);
  auto configured = servers_of(o);
  if (!configured) return refuse(configured.error().message);
  session.servers.configure(*configured);
  const auto tools = run_blocking(session.executor, session.servers.tools());
  if (const std::string why = unhealthy_reasons(session.servers); !why.empty()) return refuse(why);
  int status = 0;
  for (const auto& tool : tools) {
    const auto outcome = run_blocking(
        session.executor,
        session.servers.call(tool.name, arguments_for(tool.input_schema),
                             milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000))));
    std::printf("%s: %s%s\n", tool.name.c_str(), outcome.is_error ? "error: " : "",
                outcome.text.c_str());
    if (outcome.is_error) status = kToolFailed;
  }
  return status;
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
    command->add_option("--url", o->url, "An ad-hoc MCP server over HTTP at this URL");
    command->add_option("--transport", o->transport, "The --url server's transport: http or sse")
        ->capture_default_str();
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
  auto* conformance = mcp->add_subcommand(
      "conformance", "The client MCP's conformance suite drives: connect, list, call every tool");
  conformance->add_option("url", o->url, "The server's URL (the suite appends it)")->required();
  conformance->add_option("--timeout", o->timeout_s, "Seconds to wait for the server's answers")
      ->check(CLI::PositiveNumber);
  conformance->callback([o, &exit_code] { exit_code = run_conformance(*o); });
}

}  // namespace reliant
