// The MCPService's typed methods (daemon_methods.h): the daemon's MCP servers, their tools, and
// turning one on, off or over; and the mcp.json files they come from, a workspace's approved by
// the user.
#include "base/json_parse.h"
#include "protocol/codec.h"
#include "reliant/api/v1/daemon_services.pb.h"
#include "services/daemon/daemon_methods.h"
#include "services/daemon/mcp/mcp_servers.h"

namespace reliant::daemon {
namespace {

namespace api = reliant::api::v1;

void fill(const mcp::McpServerView& view, api::McpServer& out) {
  out.set_name(view.name);
  out.set_status(std::string(mcp::to_string(view.status)));
  out.set_error(view.error);
  out.set_tools(static_cast<std::int32_t>(view.tools));
  out.set_restarts(static_cast<std::int32_t>(view.restarts));
  out.set_server_name(view.server_name);
  out.set_server_version(view.server_version);
  out.set_protocol_version(view.protocol_version);
  for (const auto& tag : view.tags) out.add_tags(tag);
  out.set_source(view.source);
}

Result<mcp::McpServers*> servers_of(MethodContext& context) {
  if (context.mcp == nullptr) {
    return fail(ErrorCode::failed_precondition, "this daemon runs no MCP servers");
  }
  return context.mcp;
}

// The server's view after a change, or not_found.
Result<api::McpServer> view_of(const mcp::McpServers& servers, const std::string& name) {
  for (const auto& view : servers.list()) {
    if (view.name != name) continue;
    api::McpServer out;
    fill(view, out);
    return out;
  }
  return fail(ErrorCode::not_found, "no MCP server " + name);
}

Task<Result<api::ListMcpServersResponse>> list_servers(api::ListMcpServersRequest,
                                                       MethodContext& context) {
  Result<mcp::McpServers*> servers = servers_of(context);
  if (!servers) co_return fail(servers.error());
  api::ListMcpServersResponse out;
  for (const auto& view : (*servers)->list()) fill(view, *out.add_servers());
  co_return out;
}

Task<Result<api::GetMcpServerToolsResponse>> server_tools(api::GetMcpServerToolsRequest in,
                                                          MethodContext& context) {
  Result<mcp::McpServers*> servers = servers_of(context);
  if (!servers) co_return fail(servers.error());
  Task<std::vector<mcp::ExposedTool>> listing = (*servers)->tools();
  const std::vector<mcp::ExposedTool> tools = co_await listing;
  api::GetMcpServerToolsResponse out;
  for (const auto& tool : tools) {
    if (!in.server().empty() && tool.server != in.server()) continue;
    api::McpTool* each = out.add_tools();
    each->set_name(tool.name);
    each->set_server(tool.server);
    each->set_tool(tool.tool);
    each->set_description(tool.description);
    each->set_input_schema_json(
        tool.input_schema.dump(-1, ' ', false, Json::error_handler_t::replace));
    for (const auto& tag : tool.tags) each->add_tags(tag);
    each->set_read_only(tool.read_only);
  }
  co_return out;
}

Task<Result<api::McpServer>> set_server_enabled(api::SetMcpServerEnabledRequest in,
                                                MethodContext& context) {
  Result<mcp::McpServers*> servers = servers_of(context);
  if (!servers) co_return fail(servers.error());
  if (in.server().empty()) co_return fail(ErrorCode::invalid_argument, "server is required");
  const Result<void> done =
      in.enabled() ? (*servers)->enable(in.server()) : (*servers)->disable(in.server());
  if (!done) co_return fail(done.error());
  co_return view_of(**servers, in.server());
}

Task<Result<api::McpServer>> restart_server(api::RestartMcpServerRequest in,
                                            MethodContext& context) {
  Result<mcp::McpServers*> servers = servers_of(context);
  if (!servers) co_return fail(servers.error());
  if (in.server().empty()) co_return fail(ErrorCode::invalid_argument, "server is required");
  Task<Result<mcp::McpServerView>> restarting = (*servers)->restart(in.server());
  Result<mcp::McpServerView> restarted = co_await restarting;
  if (!restarted) co_return fail(restarted.error());
  co_return view_of(**servers, in.server());
}

void fill(const mcp::McpConfigFile& file, api::McpConfigFile& out) {
  const Json shown = mcp::to_json(file);
  out.set_file(file.file);
  out.set_layer(text_field(shown, "layer"));
  out.set_sha256(file.sha256);
  out.set_status(text_field(shown, "status"));
  // Bounded by kShownServersBytesMax; one nested past the JSON depth bound is not shown either.
  if (file.servers.is_object()) {
    const Result<void> shown_servers = protocol::from_json_into(
        file.servers.dump(-1, ' ', false, Json::error_handler_t::replace), *out.mutable_servers());
    if (!shown_servers) out.clear_servers();
  }
  out.set_error(file.error);
}

api::ListMcpConfigFilesResponse files_of(const mcp::McpServers& servers) {
  api::ListMcpConfigFilesResponse out;
  for (const auto& file : servers.files()) fill(file, *out.add_files());
  return out;
}

Task<Result<api::ListMcpConfigFilesResponse>> list_config_files(api::ListMcpConfigFilesRequest,
                                                                MethodContext& context) {
  Result<mcp::McpServers*> servers = servers_of(context);
  if (!servers) co_return fail(servers.error());
  co_return files_of(**servers);
}

Task<Result<api::ListMcpConfigFilesResponse>> approve_config_file(
    api::ApproveMcpConfigFileRequest in, MethodContext& context) {
  Result<mcp::McpServers*> servers = servers_of(context);
  if (!servers) co_return fail(servers.error());
  if (in.file().empty() || in.sha256().empty()) {
    co_return fail(ErrorCode::invalid_argument, "file and sha256 are required");
  }
  if (Result<void> approved = (*servers)->approve(in.file(), in.sha256()); !approved) {
    co_return fail(approved.error());
  }
  co_return files_of(**servers);
}

}  // namespace

void add_mcp_methods(DaemonMethods& methods) {
  const std::string service = "/reliant.api.v1.MCPService/";
  methods.add(service + "ListServers", &list_servers);
  methods.add(service + "GetServerTools", &server_tools);
  methods.add(service + "SetServerEnabled", &set_server_enabled);
  methods.add(service + "RestartServer", &restart_server);
  methods.add(service + "ListConfigFiles", &list_config_files);
  methods.add(service + "ApproveConfigFile", &approve_config_file);
}

}  // namespace reliant::daemon
