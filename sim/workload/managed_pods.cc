// The tool-path workload's managed daemons: the simulated platform their pods run on, the
// control plane role that drives it, and the invariants about suspension and resumption —
// resume_bounded (a call that had to wake its daemon ends within its bound, and once) and
// suspended_not_dialled (no gateway dials a daemon its control plane has let go).
#include <algorithm>
#include <optional>

#include "services/control_plane/control_plane.h"
#include "services/routing/bus_daemon_router.h"
#include "services/storage/managed_daemons.h"
#include "services/storage/sql_row.h"
#include "sim/sim_provisioner.h"
#include "sim/workload/tool_path_state.h"

namespace reliant::sim {
namespace {

// A dial this long after the wish stopped being "running" (as sampled) is a violation: enough
// for a gateway's store read, made before the wish changed, and its dial to land.
constexpr Duration kDialSettle = seconds(3);

const ControlPlaneConfig* control_plane_config(const Scenario& scenario) {
  for (const auto& group : scenario.topology) {
    if (group.is<ControlPlaneConfig>()) return &group.as<ControlPlaneConfig>();
  }
  return nullptr;
}

// Each managed daemon's wish, straight from the store (the checkers' view of the truth).
std::map<std::string, DesiredState> read_wishes(ToolPathWorkload::Impl& impl) {
  std::map<std::string, DesiredState> wishes;
  auto read = impl.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto rows = tx.query("SELECT id, desired_state FROM managed_daemons", {});
    if (!rows) return fail(rows.error());
    for (const SqlRecord& r : records(*rows)) {
      auto desired = r.enumerated("desired_state", kDesiredStateNames);
      if (!desired) return fail(desired.error());
      wishes[r.text("id")] = *desired;
    }
    return {};
  });
  if (!read) {
    impl.checker.violation(impl.world.now(), "suspended_not_dialled",
                           "managed daemons unreadable: " + read.error().message);
  }
  return wishes;
}

// A gateway's dial: one to a managed daemon whose wish has not been "running" for a while is a
// violation. A deleted daemon has no wish left: its absence counts as not running.
void on_dial(ToolPathWorkload::Impl& impl, const std::string& address) {
  for (const auto& machine : impl.machines) {
    if (!machine->config.managed) continue;
    const SimPods::Pod* pod = impl.pods->find(machine->daemon_id);
    if (pod == nullptr || pod->address != address) continue;
    ++impl.managed_dials;
    const auto seen = impl.wishes_seen.find(machine->daemon_id);
    if (seen == impl.wishes_seen.end() || seen->second.running ||
        impl.world.now() - seen->second.since < kDialSettle) {
      return;
    }
    // Let go for a while as sampled; and now, as the store says?
    std::optional<DesiredState> wish;
    auto read = impl.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
      auto row = find_managed_daemon(tx, machine->daemon_id);
      if (!row) return fail(row.error());
      if (*row) wish = (*row)->desired;
      return {};
    });
    if (read && wish == DesiredState::running) return;
    impl.checker.violation(impl.world.now(), "suspended_not_dialled",
                           machine->node +
                               " was dialled although its control plane has wanted it " +
                               (!read  ? "(unreadable: " + read.error().message + ")"
                                : wish ? std::string(name_of(kDesiredStateNames, *wish))
                                       : std::string("deleted")) +
                               " since " + format_duration(seen->second.since - kSimEpoch));
    return;
  }
}

}  // namespace

void set_up_managed_pods(ToolPathWorkload::Impl& impl) {
  const ControlPlaneConfig* plane = control_plane_config(impl.scenario);
  if (plane == nullptr) return;
  SimPodOptions options;
  options.start_delay_min = plane->pod_start_min;
  options.start_delay_max = plane->pod_start_max;
  options.start_failure_share = plane->pod_start_failure_share;
  options.exit_share = plane->pod_exit_share;
  options.exit_after_min = plane->pod_exit_after_min;
  options.exit_after_max = plane->pod_exit_after_max;
  ToolPathWorkload::Impl* self = &impl;
  impl.pods = std::make_unique<SimPods>(impl.world, impl.random.split("pods"), options,
                                        [self] { return self->healed(); });
  impl.streams.on_dial = [self](const std::string& address) { on_dial(*self, address); };
}

// The real control plane over the simulated platform.
ComponentFactory control_plane_factory(ToolPathWorkload::Impl* impl, ControlPlaneConfig config,
                                       const std::string& name) {
  return [impl, config, name](Env& env) -> std::shared_ptr<void> {
    struct Plane {
      Plane(Env& env, SimPods& pods, control_plane::ControlPlaneConfig config)
          : secrets(env.random),
            provisioner(env, pods),
            plane(env, secrets, {&provisioner}, std::move(config)) {}
      SeededSecretSource secrets;
      SimProvisioner provisioner;
      control_plane::ControlPlane plane;  // last: destroyed first
    };
    control_plane::ControlPlaneConfig plane_config;
    plane_config.replica_id = name;
    plane_config.interval = config.interval;
    plane_config.lease = std::max<Duration>(config.interval * 5, seconds(10));
    plane_config.suspend_after = config.suspend_after;
    RELIANT_ASSERT(impl->pods != nullptr);
    return std::make_shared<Plane>(env, *impl->pods, std::move(plane_config));
  };
}

void sample_managed_wishes(ToolPathWorkload::Impl& impl) {
  if (impl.pods == nullptr) return;
  const auto wishes = read_wishes(impl);
  for (const auto& machine : impl.machines) {
    if (!machine->config.managed) continue;
    const auto wish = wishes.find(machine->daemon_id);
    const bool running = wish != wishes.end() && wish->second == DesiredState::running;
    auto [seen, first] = impl.wishes_seen.try_emplace(
        machine->daemon_id, ToolPathWorkload::Impl::WishSeen{running, impl.world.now()});
    if (!first && seen->second.running != running) seen->second = {running, impl.world.now()};
  }
  ToolPathWorkload::Impl* self = &impl;
  impl.world.schedule(impl.world.now() + seconds(1), kWorldNode, "tools.wishes",
                      [self] { sample_managed_wishes(*self); });
}

std::set<std::string> managed_wanted_running(ToolPathWorkload::Impl& impl) {
  std::set<std::string> wanted;
  for (const auto& [id, wish] : read_wishes(impl)) {
    if (wish == DesiredState::running) wanted.insert(id);
  }
  return wanted;
}

bool managed_pod_coming_back(const ToolPathWorkload::Impl& impl,
                             const ToolPathWorkload::Machine& machine, Instant now) {
  const SimPods::Pod* pod = impl.pods->find(machine.daemon_id);
  if (pod == nullptr) return false;
  // Wanted again, or started (or up), since: the control plane's next round, the start, a
  // dial, a registration.
  const ControlPlaneConfig& plane = *control_plane_config(impl.scenario);
  const Duration way_back = plane.pod_start_max + 2 * plane.interval + impl.reconnect_allowance();
  const auto seen = impl.wishes_seen.find(machine.daemon_id);
  if (seen == impl.wishes_seen.end() || !seen->second.running ||
      now - seen->second.since < way_back) {
    return true;  // wanted within the last second (not sampled yet), or only just
  }
  if (pod->phase == SimPods::Phase::stopped || pod->phase == SimPods::Phase::removed) {
    return false;  // wanted running for a while, and let stop: not on its way at all
  }
  return now - pod->changed < way_back;
}

void check_managed(ToolPathWorkload::Impl& impl, Instant end) {
  if (impl.pods == nullptr) return;
  const Instant heal = kSimEpoch + impl.scenario.heal_at;
  // A call that had to wake its daemon ends within the router's bound, failed or not (the
  // model sees an error, never silence); once the faults healed it succeeds, having run once.
  constexpr Duration kSlack = seconds(2);  // a store retry at the very end of the bound
  for (const auto& call : impl.calls) {
    if (!call.woke || call.abandoned || call.issued + call.bound + kSlack > end) continue;
    const std::string what = "call " + call.request_id + " from " + call.client + " (issued at " +
                             format_duration(call.issued - kSimEpoch) + ", its daemon suspended)";
    if (!call.answered || *call.answered - call.issued > call.bound + kSlack) {
      impl.checker.violation(
          end, "resume_bounded",
          what +
              (call.answered ? " ended after " + format_duration(*call.answered - call.issued)
                             : std::string(" never ended")) +
              ", past its bound of " + format_duration(call.bound));
      continue;
    }
    // Runs of its request, and of its command under any request id (a retry under a new id
    // runs the command again just the same).
    const auto ran = impl.executions.find(call.request_id);
    const auto effect = impl.command_runs.find(call.request_id);
    const std::size_t runs =
        std::max<std::size_t>(ran == impl.executions.end() ? 0 : ran->second.size(),
                              effect == impl.command_runs.end() ? 0 : effect->second);
    if (runs > 1 || (call.ok() && runs == 0)) {
      impl.checker.violation(
          end, "resume_bounded",
          what + " ended " + call.outcome + " having run " + std::to_string(runs) + " times");
      continue;
    }
    if (call.issued < heal + impl.reconnect_allowance()) continue;
    if (!call.ok()) {
      impl.checker.violation(
          end, "resume_bounded",
          what + " after healing ended " + (call.failed ? "failed: " : "with ") + call.outcome);
    }
  }
}

std::string managed_state(ToolPathWorkload::Impl& impl, const ToolPathWorkload::Machine& machine) {
  static constexpr const char* kPhases[] = {"up", "starting", "failed to start", "stopped",
                                            "removed"};
  const SimPods::Pod* pod = impl.pods->find(machine.daemon_id);
  std::string out = "; its pod ";
  out += pod == nullptr ? "unknown" : kPhases[static_cast<int>(pod->phase)];
  if (pod != nullptr) out += " since " + format_duration(pod->changed - kSimEpoch);
  auto read = impl.database.database().transact([&](SqlTransaction& tx) -> Result<void> {
    auto row = find_managed_daemon(tx, machine.daemon_id);
    if (!row) return fail(row.error());
    if (!*row) return {};
    const ManagedDaemonRecord& m = **row;
    out += ", wanted " + std::string(name_of(kDesiredStateNames, m.desired)) + ", observed " +
           std::string(name_of(kObservedStateNames, m.observed)) + ", recorded " +
           std::string(to_string(m.status)) + ", " + std::to_string(m.restarts) +
           " restarts, next attempt at " +
           format_duration(Instant(milliseconds(m.next_attempt_at_ms)) - kSimEpoch) +
           (m.last_error.empty() ? "" : ", last error: " + m.last_error);
    return {};
  });
  if (!read) out += " (unreadable: " + read.error().message + ")";
  return out;
}

std::string managed_summary(const ToolPathWorkload::Impl& impl) {
  if (impl.pods == nullptr) return "";
  std::uint64_t woke = 0;
  std::uint64_t woke_ok = 0;
  for (const auto& call : impl.calls) {
    if (!call.woke) continue;
    ++woke;
    if (call.ok()) ++woke_ok;
  }
  const auto u = [](std::uint64_t v) { return std::to_string(v); };
  return "managed: " + u(impl.pods->starts()) + " pod starts (" + u(impl.pods->start_failures()) +
         " failed), " + u(impl.pods->exits()) + " exits, " + u(impl.pods->stops()) + " stops, " +
         u(impl.managed_dials) + " dials; " + u(woke) + " calls woke their daemon (" + u(woke_ok) +
         " ok)\n";
}

}  // namespace reliant::sim
