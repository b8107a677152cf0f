// The flags that bound what a daemon's tools reach — workspace roots, confinement, the
// environment commands see — shared by `reliant daemon start` and `reliant monolith`.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "adapters/host/posix_host.h"
#include "base/result.h"

namespace reliant {

struct WorkspaceFlags {
  std::vector<std::string> roots;     // --workspace-root (default: the working directory)
  bool unconfined = false;            // --unconfined
  std::vector<std::string> tool_env;  // --tool-env NAME or PREFIX*
  bool no_tool_cgroups = false;       // --no-tool-cgroups
};

void add_workspace_flags(CLI::App& command, WorkspaceFlags& flags);

// The directories that hold what the daemon keeps for itself — a monolith's `data_dir` (empty:
// none), ~/.reliant, and the credentials under ~/.config/reliant — those that exist, absolute.
// The file tools never reach them, wherever they lie (issue 38: `--data-dir ./data` put the
// token inside the workspace).
std::vector<std::string> private_directories(const std::string& data_dir);

// The Host's options for tools that run in `working_dir` (absolute), never reaching `excluded`.
// Fails when a root does not exist or is not a directory.
Result<PosixHostOptions> host_options(const std::string& working_dir, const WorkspaceFlags& flags,
                                      std::vector<std::string> excluded);

// "/home/ada/project, never /home/ada/project/data" or "anywhere (unconfined)…", for the
// start-up log line.
std::string describe_workspace(const PosixHostOptions& options);

}  // namespace reliant
