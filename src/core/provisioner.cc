// The managed daemon's command line, the same on every platform.
#include "core/provisioner.h"

namespace reliant {

std::vector<std::string> managed_daemon_arguments(const DaemonDeployment& d,
                                                  const DaemonPlacement& place) {
  const PermissionProfile profile = d.spec.permissions.value_or(PermissionProfile::read_only);
  std::vector<std::string> args = {"daemon",
                                   "start",
                                   "--managed",
                                   "--port",
                                   std::to_string(place.port),
                                   "--listen-address",
                                   place.listen_address,
                                   "--name",
                                   d.spec.name,
                                   "--working-dir",
                                   place.workspace_dir,
                                   "--workspace-root",
                                   place.workspace_dir,
                                   "--permissions",
                                   std::string(name_of(kPermissionProfileNames, profile))};
  if (!d.spec.labels.empty()) {
    std::string joined;
    for (const auto& [key, value] : d.spec.labels) {
      joined += (joined.empty() ? "" : ",") + key + "=" + value;
    }
    args.push_back("--labels");
    args.push_back(joined);
  }
  for (const auto& link : d.spec.links) {
    if (!link_is_path(link)) continue;  // a project or worktree: among linked_paths
    args.push_back("--workspace-root");
    args.push_back(link);
  }
  for (const auto& path : d.linked_paths) {
    args.push_back("--workspace-root");
    args.push_back(path);
  }
  for (const auto& [key, value] : d.spec.env) {
    args.push_back("--tool-env");  // its tools see what it was given
    args.push_back(key);
  }
  if (!d.commands_url.empty()) {
    args.push_back("--commands-url");
    args.push_back(d.commands_url);
    if (!d.commands_ca_file.empty()) {
      args.push_back("--commands-ca-file");
      args.push_back(d.commands_ca_file);
    }
  }
  return args;
}

}  // namespace reliant
