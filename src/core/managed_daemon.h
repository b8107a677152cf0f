// Managed daemons (spec S0.11–S0.12, seed 004): what a user asks the control plane for — a
// daemon it provisions on a platform, keeps running, suspends when idle and resumes on demand —
// and the control plane's decision for one daemon in one round. Pure: the control plane reads
// the row and asks the provisioner, and this says what to do next.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/enum_names.h"
#include "base/result.h"
#include "base/time.h"

namespace reliant {

// Where the daemon runs. Local and Kubernetes are supported; AWS, GCP and Azure are refused in
// preflight, before any provider is called (seed 004's platform table).
enum class DaemonPlatform { local, kubernetes, aws, gcp, azure };
inline constexpr EnumNames<DaemonPlatform, 5> kDaemonPlatformNames{{
    {DaemonPlatform::local, "local"},
    {DaemonPlatform::kubernetes, "kubernetes"},
    {DaemonPlatform::aws, "aws"},
    {DaemonPlatform::gcp, "gcp"},
    {DaemonPlatform::azure, "azure"},
}};
RELIANT_JSON_BY_NAME(DaemonPlatform, kDaemonPlatformNames)

// What the daemon may do: `execution` runs commands and edits files; `read-only` has the tools
// that only read (tag readonly), nothing else.
enum class PermissionProfile { execution, read_only };
inline constexpr EnumNames<PermissionProfile, 2> kPermissionProfileNames{{
    {PermissionProfile::execution, "execution"},
    {PermissionProfile::read_only, "read-only"},
}};
RELIANT_JSON_BY_NAME(PermissionProfile, kPermissionProfileNames)

// What the user wants. `deleted` is kept until the provisioner has removed the daemon.
enum class DesiredState { running, suspended, deleted };
inline constexpr EnumNames<DesiredState, 3> kDesiredStateNames{{
    {DesiredState::running, "running"},
    {DesiredState::suspended, "suspended"},
    {DesiredState::deleted, "deleted"},
}};
RELIANT_JSON_BY_NAME(DesiredState, kDesiredStateNames)

// What the control plane last saw. `exited`: it was running and its process or pod ended (a
// restart is due after `next_attempt_at_ms`); `failed`: provisioning failed (retried likewise).
enum class ObservedState { pending, running, exited, failed, suspended };
inline constexpr EnumNames<ObservedState, 5> kObservedStateNames{{
    {ObservedState::pending, "pending"},
    {ObservedState::running, "running"},
    {ObservedState::exited, "exited"},
    {ObservedState::failed, "failed"},
    {ObservedState::suspended, "suspended"},
}};
RELIANT_JSON_BY_NAME(ObservedState, kObservedStateNames)

// The daemon's code: a binary (the control plane's own `reliant` when empty) or an image.
struct DaemonCode {
  std::string binary;
  std::string image;

  bool operator==(const DaemonCode&) const = default;
};

// Seed 004's builder fields, as the user gives them.
struct ManagedDaemonSpec {
  std::string name;
  DaemonPlatform platform = DaemonPlatform::local;
  DaemonCode code;
  std::map<std::string, std::string> env;     // injected into the daemon's process
  std::map<std::string, std::string> labels;  // as a local daemon's, for selectors
  // Projects (by id) or paths the daemon may reach: its workspace roots beside its own folder.
  std::vector<std::string> links;
  std::optional<PermissionProfile> permissions;  // required
  bool commands_enabled = false;                 // it polls the control plane for commands
  // Never suspended for being idle (a connector, a command handler); every managed daemon whose
  // desired state is running is restarted when it exits.
  bool always_on = false;

  bool operator==(const ManagedDaemonSpec&) const = default;
};

inline constexpr std::size_t kManagedDaemonNameBytesMax = 63;  // a DNS label, for Kubernetes
inline constexpr std::size_t kSpecEntriesMax = 64;             // env, labels, links each

// The spec from its JSON form ({name, platform, code: {binary|image}, env, labels, links,
// permissions, commands_enabled, always_on}). invalid_argument names the field: an unknown
// platform ("unknown platform \"mars\" (local, kubernetes, aws, gcp, azure)"), a missing
// permission profile, a name that is not a lowercase DNS label, an environment variable name
// that is not [A-Za-z_][A-Za-z0-9_]*, an unknown key.
Result<ManagedDaemonSpec> parse_managed_daemon_spec(const nlohmann::json& json);
nlohmann::json to_json(const ManagedDaemonSpec& spec);

// The platforms a control plane with provisioners for `supported` accepts: failed_precondition
// naming them when `platform` is not one (AWS, GCP and Azure never are: no provider is called).
Result<void> preflight_platform(DaemonPlatform platform,
                                const std::vector<DaemonPlatform>& supported);

// --- one round of the control plane for one daemon ----------------------------------------

// What the provisioner says of the daemon's process or pod.
enum class PodState { absent, starting, running, exited };

struct DaemonRound {
  DesiredState desired = DesiredState::running;
  ObservedState observed = ObservedState::pending;
  PodState presence = PodState::absent;
  bool always_on = false;
  bool connected = false;                   // a gateway holds its stream (active or idle)
  std::int64_t now_ms = 0;                  // wall time, as the rows hold it
  std::int64_t last_activity_at_ms = 0;     // the last tool call, terminal or MCP session
  std::int64_t requests_wait_until_ms = 0;  // a stored call waits for it until then
  std::int64_t next_attempt_at_ms = 0;      // a restart or retry is not due before
  Duration suspend_after = minutes(30);     // zero: never for idleness
};

enum class RoundAction {
  none,          // as wanted
  start,         // provision or start it (then: running, and ask a gateway to dial it)
  connect,       // it runs but no gateway holds it: publish the connect command
  wait,          // a restart or retry is not due yet
  suspend,       // stop it, keep what it owns: the user asked
  suspend_idle,  // nothing used it for suspend_after: record that it is wanted suspended, stop it
  remove,        // delete it and everything it owns, then its rows
  note_exit,     // it was running and is gone: record `exited`, schedule the restart
};

// The first thing to do for the daemon this round. An idle running daemon (not always-on, no
// activity for suspend_after) is suspended.
RoundAction decide_round(const DaemonRound& round);
std::string_view to_string(RoundAction action) noexcept;

// How long after its `restarts`-th consecutive exit or failure a daemon is started again:
// doubling from one second, at most five minutes.
Duration restart_delay(std::int64_t restarts);

}  // namespace reliant
