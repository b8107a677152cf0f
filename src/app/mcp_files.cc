// Reading the MCP configuration layers and the approvals from disk (see the header).
#include "app/mcp_files.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "app/daemon_files.h"
#include "base/json_parse.h"
#include "services/daemon/mcp/mcp_servers.h"

namespace reliant {
namespace {

constexpr std::size_t kMcpFileBytesMax = 1u << 20;

// The file's text; nullopt when it is not there.
Result<std::optional<std::string>> read_if_present(const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::optional<std::string>();
  std::ifstream in(file, std::ios::binary);
  if (!in) return fail(ErrorCode::permission_denied, file + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > kMcpFileBytesMax) {
    return fail(ErrorCode::resource_exhausted, file + ": larger than 1 MiB");
  }
  return std::optional<std::string>(text.str());
}

// `dir` absolute, its links resolved as far as it exists: every process names a file alike.
std::filesystem::path canonical(const std::string& dir) {
  std::error_code ec;
  std::filesystem::path out =
      std::filesystem::weakly_canonical(std::filesystem::absolute(dir, ec), ec);
  return ec ? std::filesystem::path(dir).lexically_normal() : out;
}

// The approvals of `path` in the order they were given, oldest first.
Result<std::vector<mcp::McpApproval>> read_approvals(const std::string& path) {
  auto text = read_if_present(path);
  if (!text) return fail(text.error());
  std::vector<mcp::McpApproval> out;
  if (!*text) return out;
  const auto broken = [&](const std::string& why) {
    return Error{
        ErrorCode::invalid_argument,
        path + ": " + why + " (fix or delete it: the files it approved then need approval again)"};
  };
  auto json = parse_json(**text);
  if (!json) return fail(broken(json.error().message));
  const nlohmann::json list =
      json->is_object() ? json->value("approvals", nlohmann::json()) : nlohmann::json();
  if (!list.is_array())
    return fail(broken("expected {\"approvals\": [{\"file\", \"sha256\"}, ...]}"));
  for (const auto& entry : list) {
    const std::string file = text_field(entry, "file");
    const std::string sha256 = text_field(entry, "sha256");
    if (file.empty() || sha256.size() != 64)
      return fail(broken("an approval without file or sha256"));
    out.push_back({file, sha256});
  }
  return out;
}

// This process's environment as it is now, kept for later reads.
mcp::Environment environment_now() {
  auto values = std::make_shared<std::map<std::string, std::string, std::less<>>>();
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals != std::string_view::npos) {
      values->emplace(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
    }
  }
  return [values](std::string_view name) -> std::optional<std::string> {
    const auto found = values->find(name);
    if (found == values->end()) return std::nullopt;
    return found->second;
  };
}

}  // namespace

std::optional<std::string> process_environment(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<std::string> mcp_approvals_path(std::string home) {
  if (home.empty()) home = process_environment("HOME").value_or("");
  if (home.empty()) {
    return fail(ErrorCode::failed_precondition,
                "HOME is not set: there is nowhere to keep approvals of MCP files");
  }
  return home + "/.reliant/mcp-approvals.json";
}

Result<mcp::McpApprovals> load_mcp_approvals(const std::string& path) {
  auto listed = read_approvals(path);
  if (!listed) return fail(listed.error());
  return mcp::McpApprovals(listed->begin(), listed->end());
}

Result<void> save_mcp_approval(const std::string& path, const mcp::McpApproval& approval) {
  auto listed = read_approvals(path);
  if (!listed) return fail(listed.error());
  // One content per file: approving its new text withdraws the old one.
  std::erase_if(*listed, [&](const mcp::McpApproval& a) { return a.file == approval.file; });
  listed->push_back(approval);
  if (listed->size() > kMcpApprovalsMax) {
    listed->erase(listed->begin(), listed->end() - static_cast<std::ptrdiff_t>(kMcpApprovalsMax));
  }
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : *listed) list.push_back({{"file", a.file}, {"sha256", a.sha256}});
  return write_private_file(path, nlohmann::json{{"approvals", list}}.dump(2) + "\n");
}

Result<mcp::McpConfig> load_mcp_files(const std::string& project_dir, std::string home,
                                      const mcp::Environment& environment) {
  if (home.empty()) home = process_environment("HOME").value_or("");
  std::vector<std::pair<std::string, mcp::McpLayer>> files;
  if (!home.empty())
    files.emplace_back((canonical(home) / ".reliant/mcp.json").string(), mcp::McpLayer::user);
  if (!project_dir.empty()) {
    const std::filesystem::path project = canonical(project_dir);
    // A project in the home folder: its .reliant/mcp.json is the user's own, read once.
    if (files.empty() || (project / ".reliant/mcp.json").string() != files.front().first) {
      files.emplace_back((project / ".reliant/mcp.json").string(), mcp::McpLayer::project);
    }
    files.emplace_back((project / ".reliant.local/mcp.json").string(), mcp::McpLayer::local);
  }
  std::vector<mcp::McpConfigLayer> layers;
  for (const auto& [file, layer] : files) {
    auto text = read_if_present(file);
    if (!text) return fail(text.error());
    if (*text) layers.push_back({file, std::move(**text), layer});
  }
  mcp::McpApprovals approvals;
  const bool workspace_files = std::any_of(layers.begin(), layers.end(), [](const auto& layer) {
    return layer.layer != mcp::McpLayer::user;
  });
  if (workspace_files && !home.empty()) {
    auto path = mcp_approvals_path(home);
    if (!path) return fail(path.error());
    auto approved = load_mcp_approvals(*path);
    if (!approved) return fail(approved.error());
    approvals = std::move(*approved);
  }
  return mcp::load_mcp_config(layers, environment, approvals);
}

void configure_mcp_servers(mcp::McpServers& servers, const std::string& project_dir) {
  const mcp::Environment environment = environment_now();
  servers.set_source(
      [project_dir, environment] { return load_mcp_files(project_dir, "", environment); });
  servers.set_approver([](const mcp::McpApproval& approval) -> Result<void> {
    auto path = mcp_approvals_path();
    if (!path) return fail(path.error());
    spdlog::info("MCP file approved: {} (sha256 {})", approval.file, approval.sha256);
    return save_mcp_approval(*path, approval);
  });
  auto configured = load_mcp_files(project_dir, "", environment);
  if (!configured) {
    spdlog::warn("MCP servers not started: {}", configured.error().message);
    return;
  }
  for (const auto& [name, server] : configured->servers) {
    if (!server.error.empty()) spdlog::warn("MCP server {}: {}", name, server.error);
  }
  if (!configured->servers.empty()) {
    spdlog::info("MCP servers configured: {}", configured->servers.size());
  }
  servers.configure(std::move(configured->servers), std::move(configured->files));
}

}  // namespace reliant
