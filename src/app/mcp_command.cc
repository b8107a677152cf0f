// `reliant mcp servers|tools|call`: the daemon's MCP client (services/daemon/mcp) on this
// machine, for users checking their mcp.json and for tests against servers nobody here wrote;
// `reliant mcp files|approve`: the mcp.json files a daemon reads and the approval of a
// workspace's file, through the API (the daemon's MCPService.ListConfigFiles and
// ApproveConfigFile), or with --local for this machine's own `reliant mcp` commands.
//
//   reliant mcp servers [--dir DIR]                      status of every configured server
//   reliant mcp tools [--server NAME] [-- COMMAND ARG…]  a server's tools, one a line
//   reliant mcp call TOOL [--arguments JSON] [--server NAME] [-- COMMAND ARG…]
//   reliant mcp files [--daemon ID | --local [--dir DIR]]
//   reliant mcp approve FILE --sha256 HEX [--daemon ID | --local]
//   reliant mcp conformance URL                         the client MCP's conformance suite drives
//
// TOOL is the server's own name for it (or mcp__<server>__<tool>). A server given after `--` runs
// as a stdio server named "cli"; one given with --url URL [--transport http|sse] is reached over
// Streamable HTTP (or the older HTTP+SSE) under the same name. Exit codes: 0 done; 1 the tool
// reported an error (isError); 2 nothing could be asked (a bad argument, a server that does not
// start or answer).
#include "app/mcp_command.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/asio/asio_executor.h"
#include "adapters/asio/run_blocking.h"
#include "adapters/host/posix_host.h"
#include "adapters/llm/outbound_http.h"
#include "app/api_client.h"
#include "app/mcp_files.h"
#include "app/secure_random.h"
#include "base/json_parse.h"
#include "runtime/env.h"
#include "runtime/random.h"
#include "services/daemon/mcp/mcp_servers.h"

namespace reliant {
namespace {

constexpr int kMcpToolFailed = 1;
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
  std::string file;    // approve: the mcp.json
  std::string sha256;  // approve: the content approved
  std::string daemon;  // files, approve: the daemon asked (empty: the one that reads the file)
  bool local = false;  // files, approve: this machine's approvals, not a daemon's
  ApiClientOptions api;
};

int refuse_request(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return kNotAsked;
}

// The servers to talk to: the ad-hoc one, or the configured ones (only `only` when named).
Result<mcp::McpConfig> servers_of(const McpOptions& o) {
  if (!o.url.empty()) {
    if (o.transport != "http" && o.transport != "sse") {
      return fail(ErrorCode::invalid_argument, "--transport is http or sse, not " + o.transport);
    }
    mcp::McpServerConfig server;
    server.name = "cli";
    server.type = o.transport;
    server.url = o.url;
    return mcp::McpConfig{{{"cli", server}}, {}};
  }
  if (!o.command.empty()) {
    mcp::McpServerConfig server;
    server.name = "cli";
    server.command = o.command.front();
    server.args.assign(o.command.begin() + 1, o.command.end());
    return mcp::McpConfig{{{"cli", server}}, {}};
  }
  const std::string dir = o.dir.empty() ? std::filesystem::current_path().string() : o.dir;
  auto configured = load_mcp_files(dir);
  if (!configured) return fail(configured.error());
  if (o.server.empty()) return configured;
  auto found = configured->servers.find(o.server);
  if (found == configured->servers.end()) {
    std::string names;
    for (const auto& [name, server] : configured->servers)
      names += (names.empty() ? "" : ", ") + name;
    return fail(ErrorCode::not_found,
                "no MCP server named " + o.server + " in the mcp.json files" +
                    (names.empty() ? " (none configured)" : " (" + names + ")"));
  }
  return mcp::McpConfig{{{o.server, found->second}}, std::move(configured->files)};
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
    if (view.status == mcp::McpServerStatus::unhealthy ||
        view.status == mcp::McpServerStatus::untrusted) {
      out += (out.empty() ? "" : "; ") + view.name + ": " + view.error;
    }
  }
  return out;
}

int run_servers(const McpOptions& o) {
  auto configured = servers_of(o);
  if (!configured) return refuse_request(configured.error().message);
  Session session(o);
  session.servers.configure(std::move(configured->servers), std::move(configured->files));
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
  for (const auto& view : session.servers.list()) {
    if (view.status != mcp::McpServerStatus::untrusted) continue;
    std::fflush(stdout);
    std::fprintf(stderr,
                 "(an approval for these `reliant mcp` commands on this machine: add --local)\n");
    break;
  }
  return unhealthy_reasons(session.servers).empty() ? 0 : kMcpToolFailed;
}

int run_tools(const McpOptions& o) {
  auto configured = servers_of(o);
  if (!configured) return refuse_request(configured.error().message);
  Session session(o);
  session.servers.configure(std::move(configured->servers), std::move(configured->files));
  const auto tools = run_blocking(session.executor, session.servers.tools());
  if (const std::string why = unhealthy_reasons(session.servers); !why.empty() && tools.empty()) {
    return refuse_request(why);
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
    return refuse_request("--arguments must be a JSON object, e.g. '{\"message\":\"hi\"}'");
  }
  auto configured = servers_of(o);
  if (!configured) return refuse_request(configured.error().message);
  if (configured->servers.size() != 1 && !o.tool.starts_with(mcp::kMcpToolPrefix)) {
    return refuse_request("name the server: --server NAME, mcp__<server>__<tool>, or -- COMMAND");
  }
  const std::string exposed = o.tool.starts_with(mcp::kMcpToolPrefix)
                                  ? o.tool
                                  : mcp::exposed_name(configured->servers.begin()->first, o.tool);
  Session session(o);
  session.servers.configure(std::move(configured->servers), std::move(configured->files));
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
  return outcome.error_code == "failed" ? kMcpToolFailed : kNotAsked;
}

// A server's fields as a line: what runs (command and arguments) or where it is (url).
std::string launch_line(const nlohmann::json& fields) {
  if (!fields.is_object()) return "";
  std::string line = text_field(fields, "url");
  if (line.empty()) line = text_field(fields, "command");
  if (fields.contains("args") && fields["args"].is_array()) {
    for (const auto& arg : fields["args"])
      line += " " + (arg.is_string() ? arg.get<std::string>() : arg.dump());
  }
  std::string rest;
  for (const auto& [key, value] : fields.items()) {
    if (key == "url" || key == "command" || key == "args") continue;
    rest += (rest.empty() ? "" : ", ") + key + "=" + value.dump();
  }
  return rest.empty() ? line : line + "  (" + rest + ")";
}

// The files as mcp::to_json shows them (the API's ListConfigFiles, locally): one block each, or one
// JSON object a line.
void print_files(const nlohmann::json& files, bool json) {
  for (const auto& file : files) {
    if (json) {
      std::printf("%s\n",
                  file.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      continue;
    }
    const std::string status = text_field(file, "status");
    std::printf("%s  %s  %s  sha256 %s\n", text_field(file, "file").c_str(),
                text_field(file, "layer").c_str(), status.c_str(),
                text_field(file, "sha256").c_str());
    if (const std::string error = text_field(file, "error"); !error.empty()) {
      std::printf("  error: %s\n", error.c_str());
    }
    if (file.contains("servers") && file["servers"].is_object()) {
      for (const auto& [name, fields] : file["servers"].items()) {
        std::printf("  %s: %s\n", name.c_str(), launch_line(fields).c_str());
      }
    }
    if (status == "UNTRUSTED" && text_field(file, "error").empty()) {
      std::printf("  approve with: reliant mcp approve %s --sha256 %s\n",
                  text_field(file, "file").c_str(), text_field(file, "sha256").c_str());
    }
  }
}

// The daemon to ask: --daemon, else the one whose working directory holds `file` (the deepest),
// else the user's only daemon.
Result<std::string> daemon_for(const ApiClient& client, const McpOptions& o,
                               const std::string& file) {
  if (!o.daemon.empty()) return o.daemon;
  auto listed = client.call("GET", "/api/v1/daemons");
  if (!listed) return fail(listed.error());
  const nlohmann::json daemons = listed->value("daemons", nlohmann::json::array());
  std::string chosen;
  std::size_t deepest = 0;
  for (const auto& daemon : daemons) {
    const std::string dir = text_field(daemon, "working_dir");
    if (!file.empty() && !dir.empty() && file.starts_with(dir + "/") && dir.size() >= deepest) {
      chosen = text_field(daemon, "id");
      deepest = dir.size();
    }
  }
  if (!chosen.empty()) return chosen;
  if (daemons.is_array() && daemons.size() == 1) return text_field(daemons[0], "id");
  return fail(ErrorCode::invalid_argument, "name the daemon with --daemon ID (you have " +
                                               std::to_string(daemons.size()) +
                                               "; `GET /api/v1/daemons` lists them)");
}

std::string absolute_file(const std::string& file) {
  std::error_code ec;
  const auto canonical = std::filesystem::weakly_canonical(std::filesystem::absolute(file, ec), ec);
  return ec ? file : canonical.string();
}

int run_files(const McpOptions& o) {
  if (o.local) {
    auto configured =
        load_mcp_files(o.dir.empty() ? std::filesystem::current_path().string() : o.dir);
    if (!configured) return refuse_request(configured.error().message);
    nlohmann::json files = nlohmann::json::array();
    for (const auto& file : configured->files) files.push_back(mcp::to_json(file));
    print_files(files, o.json);
    return 0;
  }
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto daemon = daemon_for(*client, o, "");
  if (!daemon) return report_api_error(daemon.error());
  auto answer = client->call("GET", "/api/v1/daemons/" + *daemon + "/mcp/files");
  if (!answer) return report_api_error(answer.error());
  print_files(answer->value("files", nlohmann::json::array()), o.json);
  return 0;
}

int run_approve(const McpOptions& o) {
  if (o.sha256.size() != 64) {
    return refuse_request(
        "--sha256 is the file's 64 hex digits, as `reliant mcp files` shows them");
  }
  if (o.local) {
    // This machine's approvals: checked against the file as it is now, as a daemon checks.
    const std::string file = absolute_file(o.file);
    const std::filesystem::path folder = std::filesystem::path(file).parent_path();
    auto configured = load_mcp_files(folder.parent_path().string());
    if (!configured) return refuse_request(configured.error().message);
    const auto found = std::find_if(configured->files.begin(), configured->files.end(),
                                    [&](const mcp::McpConfigFile& f) { return f.file == file; });
    if (found == configured->files.end() || found->layer == mcp::McpLayer::user) {
      return refuse_request(file +
                            " is not a workspace's .reliant/mcp.json or .reliant.local/mcp.json");
    }
    if (found->sha256 != o.sha256) {
      return refuse_request(file + " has changed: its sha256 is now " + found->sha256 +
                            "; review it again");
    }
    if (!found->error.empty()) return refuse_request(found->error);
    auto path = mcp_approvals_path();
    if (!path) return refuse_request(path.error().message);
    if (auto saved = save_mcp_approval(*path, {file, o.sha256}); !saved) {
      return refuse_request(saved.error().message);
    }
    std::printf(
        "approved %s for this machine's `reliant mcp` commands and the daemons started "
        "here from now on (a running one takes it at its next reload)\n",
        file.c_str());
    return 0;
  }
  auto client = ApiClient::open(o.api);
  if (!client) return report_api_error(client.error());
  auto daemon = daemon_for(*client, o, o.file.starts_with("/") ? o.file : absolute_file(o.file));
  if (!daemon) return report_api_error(daemon.error());
  // A path as the daemon names it; a relative one is this machine's.
  const std::string file = o.file.starts_with("/") ? o.file : absolute_file(o.file);
  auto answer = client->call("POST", "/api/v1/daemons/" + *daemon + "/mcp/files/approve",
                             nlohmann::json{{"file", file}, {"sha256", o.sha256}});
  if (!answer) return report_api_error(answer.error());
  std::printf("approved %s on daemon %s\n", file.c_str(), daemon->c_str());
  print_files(answer->value("files", nlohmann::json::array()), o.json);
  return 0;
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
  const nlohmann::json schema = params.is_object() && params.contains("requestedSchema")
                                    ? params["requestedSchema"]
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
  if (!configured) return refuse_request(configured.error().message);
  session.servers.configure(std::move(configured->servers), std::move(configured->files));
  const auto tools = run_blocking(session.executor, session.servers.tools());
  if (const std::string why = unhealthy_reasons(session.servers); !why.empty())
    return refuse_request(why);
  int status = 0;
  for (const auto& tool : tools) {
    const auto outcome = run_blocking(
        session.executor,
        session.servers.call(tool.name, arguments_for(tool.input_schema),
                             milliseconds(static_cast<std::int64_t>(o.timeout_s * 1000))));
    std::printf("%s: %s%s\n", tool.name.c_str(), outcome.is_error ? "error: " : "",
                outcome.text.c_str());
    if (outcome.is_error) status = kMcpToolFailed;
  }
  return status;
}

}  // namespace

void add_mcp_commands(CLI::App& app, int& exit_code) {
  auto* mcp =
      app.add_subcommand("mcp", "MCP servers as the daemon runs them: status, tools, calls");
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
  auto* servers =
      mcp->add_subcommand("servers", "Start every configured server and show its status");
  common(servers);
  servers->callback([o, &exit_code] { exit_code = run_servers(*o); });
  auto* tools =
      mcp->add_subcommand("tools", "List a server's tools (exposed as mcp__<server>__<tool>)");
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
  auto* files = mcp->add_subcommand(
      "files",
      "The mcp.json files a daemon reads: layer, sha256, TRUSTED/APPROVED/UNTRUSTED, servers");
  files->add_option("--daemon", o->daemon, "The daemon (default: your only one)");
  files->add_flag("--local", o->local, "This machine's files and approvals, not a daemon's");
  files->add_option("--dir", o->dir, "With --local: the project (default: the current folder)");
  files->add_flag("--json", o->json, "One JSON object a line");
  add_api_client_options(*files, o->api);
  files->callback([o, &exit_code] { exit_code = run_files(*o); });
  auto* approve = mcp->add_subcommand(
      "approve", "Approve a workspace's mcp.json as it is now, so that its servers may start");
  approve->add_option("file", o->file, "The file, as `reliant mcp files` names it")->required();
  approve->add_option("--sha256", o->sha256, "Its content's hash, as `reliant mcp files` shows it")
      ->required();
  approve->add_option("--daemon", o->daemon,
                      "The daemon (default: the one whose working directory holds the file)");
  approve->add_flag("--local", o->local,
                    "Approve it for this machine's `reliant mcp` commands and daemons");
  approve->add_flag("--json", o->json, "The files after, one JSON object a line");
  add_api_client_options(*approve, o->api);
  approve->callback([o, &exit_code] { exit_code = run_approve(*o); });
  auto* conformance = mcp->add_subcommand(
      "conformance", "The client MCP's conformance suite drives: connect, list, call every tool");
  conformance->add_option("url", o->url, "The server's URL (the suite appends it)")->required();
  conformance->add_option("--timeout", o->timeout_s, "Seconds to wait for the server's answers")
      ->check(CLI::PositiveNumber);
  conformance->callback([o, &exit_code] { exit_code = run_conformance(*o); });
}

}  // namespace reliant
