// Workspace flags → PosixHostOptions.
#include "app/workspace_options.h"

#include <filesystem>

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
}

Result<PosixHostOptions> host_options(const std::string& working_dir, const WorkspaceFlags& flags) {
  PosixHostOptions options;
  options.working_dir = working_dir;
  options.passed_env = flags.tool_env;
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
  if (options.roots.empty()) return "anywhere this user can reach (unconfined)";
  std::string out;
  for (const auto& root : options.roots) out += (out.empty() ? "" : ", ") + root;
  return out;
}

}  // namespace reliant
