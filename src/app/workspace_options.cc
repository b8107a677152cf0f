// Workspace flags → PosixHostOptions.
#include "app/workspace_options.h"

#include <filesystem>

#include "app/daemon_files.h"

namespace reliant {

void add_workspace_flags(CLI::App& command, WorkspaceFlags& flags) {
  command.add_option("--workspace-root", flags.roots,
                     "A directory the file tools may reach (repeatable; default: the working "
                     "directory)");
  command.add_flag("--unconfined", flags.unconfined,
                   "Let the file tools reach any path this OS user can (not just the workspace)");
  command.add_option("--tool-env", flags.tool_env,
                     "An environment variable (NAME, or PREFIX*) passed on to commands, beyond "
                     "PATH, HOME, locale and the like (repeatable)");
  command.add_flag("--no-tool-cgroups", flags.no_tool_cgroups,
                   "Find a tool's processes by parentage, not by a cgroup v2 per tool call, even "
                   "where this process may make cgroups");
}

std::vector<std::string> private_directories(const std::string& data_dir) {
  std::vector<std::string> candidates;
  if (!data_dir.empty()) candidates.push_back(data_dir);
  if (auto paths = daemon_paths()) {
    const std::filesystem::path credentials(paths->credentials);  // CONFIG/auth/…json
    candidates.push_back(credentials.parent_path().parent_path().string());
    candidates.push_back(std::filesystem::path(paths->identity).parent_path().string());
  }
  std::vector<std::string> out;
  for (const auto& candidate : candidates) {
    std::error_code ec;
    const auto canonical = std::filesystem::canonical(candidate, ec);
    if (!ec && std::filesystem::is_directory(canonical, ec)) out.push_back(canonical.string());
  }
  return out;
}

Result<PosixHostOptions> host_options(const std::string& working_dir, const WorkspaceFlags& flags,
                                      std::vector<std::string> excluded) {
  PosixHostOptions options;
  options.working_dir = working_dir;
  options.passed_env = flags.tool_env;
  options.excluded = std::move(excluded);
  if (flags.no_tool_cgroups) options.process_tracking = ProcessTracking::parentage;
  if (flags.unconfined) return options;
  const std::vector<std::string> roots =
      flags.roots.empty() ? std::vector<std::string>{working_dir} : flags.roots;
  for (const auto& root : roots) {
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(root, ec);
    if (ec || !std::filesystem::is_directory(absolute, ec)) {
      return fail(ErrorCode::invalid_argument, "--workspace-root " + root + " is not a directory");
    }
    options.roots.push_back(absolute.lexically_normal().string());
  }
  return options;
}

std::string describe_workspace(const PosixHostOptions& options) {
  std::string out;
  for (const auto& root : options.roots) out += (out.empty() ? "" : ", ") + root;
  if (options.roots.empty()) out = "anywhere this user can reach (unconfined)";
  for (std::size_t i = 0; i < options.excluded.size(); ++i) {
    out += (i == 0 ? ", never " : ", ") + options.excluded[i];
  }
  return out;
}

}  // namespace reliant
