// Reading the MCP configuration layers from disk (see the header).
#include "app/mcp_files.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "services/daemon/mcp/mcp_servers.h"

namespace reliant {

std::optional<std::string> process_environment(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<std::map<std::string, mcp::McpServerConfig>> load_mcp_files(const std::string& project_dir,
                                                                   std::string home) {
  if (home.empty()) home = process_environment("HOME").value_or("");
  std::vector<std::string> files;
  if (!home.empty()) files.push_back(home + "/.reliant/mcp.json");
  if (!project_dir.empty()) {
    files.push_back(project_dir + "/.reliant/mcp.json");
    files.push_back(project_dir + "/.reliant.local/mcp.json");
  }
  std::vector<mcp::McpConfigLayer> layers;
  for (const auto& file : files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) continue;
    std::ifstream in(file, std::ios::binary);
    if (!in) return fail(ErrorCode::permission_denied, file + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    if (text.str().size() > (1u << 20)) {
      return fail(ErrorCode::resource_exhausted, file + ": larger than 1 MiB");
    }
    layers.push_back({file, text.str()});
  }
  return mcp::load_mcp_config(layers, process_environment);
}

void configure_mcp_servers(mcp::McpServers& servers, const std::string& project_dir) {
  auto configured = load_mcp_files(project_dir);
  if (!configured) {
    spdlog::warn("MCP servers not started: {}", configured.error().message);
    servers.set_source([project_dir] { return load_mcp_files(project_dir); });
    return;
  }
  for (const auto& [name, server] : *configured) {
    if (!server.error.empty()) spdlog::warn("MCP server {}: {}", name, server.error);
  }
  if (!configured->empty()) spdlog::info("MCP servers configured: {}", configured->size());
  servers.configure(std::move(*configured));
  servers.set_source([project_dir] { return load_mcp_files(project_dir); });
}

}  // namespace reliant
