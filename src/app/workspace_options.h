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
};

void add_workspace_flags(CLI::App& command, WorkspaceFlags& flags);

// The Host's options for tools that run in `working_dir` (absolute). Fails when a root does not
// exist or is not a directory.
Result<PosixHostOptions> host_options(const std::string& working_dir, const WorkspaceFlags& flags);

// "/home/ada/project" or "anywhere (unconfined)", for the start-up log line.
std::string describe_workspace(const PosixHostOptions& options);

}  // namespace reliant
