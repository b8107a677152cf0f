// The provisioner port: how the control plane makes, stops and removes a managed daemon's
// process or pod on one platform (docs/architecture.md §4). It lives beside the spec it takes
// rather than in runtime/, whose ports know nothing of daemons. Implementations: the local
// process provisioner (adapters/host) and the simulator's; core/kubernetes_objects.h is what the
// Kubernetes one applies.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "core/managed_daemon.h"
#include "core/managed_dial_key.h"
#include "runtime/task.h"

namespace reliant {

struct DaemonDeployment {
  std::string daemon_id;
  std::string user_id;
  ManagedDaemonSpec spec;
  // Commands enabled: where the daemon polls for its commands (the api's URL) and the token it
  // polls with, new for each start. The token travels in the environment
  // (kCommandsTokenVariable), never on the command line, where any user of the machine reads it.
  std::string commands_url;
  std::string commands_ca_file;  // PEM roots for the api's certificate; empty: the system's
  std::string commands_token;
  // What its gateways show it when they dial (core/managed_dial_key.h), in the environment
  // (kDialKeyVariable) like the token. Empty: it serves any stream.
  std::string dial_key;
  // The folders its links to projects and worktrees name, resolved by the control plane: further
  // workspace roots, like its links that are paths.
  std::vector<std::string> linked_paths;
};

// Whether a link names a folder (an absolute path) rather than a project or worktree id.
inline bool link_is_path(std::string_view link) { return link.starts_with("/"); }

inline constexpr std::string_view kCommandsTokenVariable = "RELIANT_COMMANDS_TOKEN";

// Where a platform places a managed daemon: the port and address it listens on for the gateways,
// and the folder it works in (its first workspace root).
struct DaemonPlacement {
  int port = 9290;
  std::string listen_address = "0.0.0.0";
  std::string workspace_dir;
};

// `daemon start --managed …` as the daemon's spec asks, without the binary: the one command line
// every platform runs (its permission profile, labels, links that are paths as further workspace
// roots, its environment's names passed on to its tools, and where it polls for commands).
std::vector<std::string> managed_daemon_arguments(const DaemonDeployment& d,
                                                  const DaemonPlacement& place);

struct ProvisionedDaemon {
  PodState presence = PodState::absent;
  std::string address;  // where a gateway dials it (https://host:port, http://host:port)
  std::string detail;   // for the operator: an exit status, a pod's reason
};

class Provisioner {
 public:
  virtual ~Provisioner() = default;
  virtual DaemonPlatform platform() const = 0;
  // What can be checked without a side effect: the code it would run, its environment.
  virtual Result<void> preflight(const ManagedDaemonSpec& spec) const = 0;
  // Whether it runs. An error: the platform could not be asked (the round tries again).
  virtual Task<Result<ProvisionedDaemon>> observe(std::string daemon_id) = 0;
  // Makes it run (provisioning it the first time). Idempotent: a running one is left alone.
  virtual Task<Result<ProvisionedDaemon>> start(DaemonDeployment deployment) = 0;
  // Suspends it: nothing runs, what it owns (its workspace, its volume) is kept.
  virtual Task<Result<void>> stop(std::string daemon_id) = 0;
  // Removes it and what it owns. Idempotent.
  virtual Task<Result<void>> remove(std::string daemon_id) = 0;
};

}  // namespace reliant
