// The simulated pods' platform.
#include "sim/sim_pods.h"

#include "base/assert.h"

namespace reliant::sim {

SimPods::SimPods(World& world, Random random, SimPodOptions options, std::function<bool()> healed)
    : world_(world), random_(std::move(random)), options_(options), healed_(std::move(healed)) {}

void SimPods::add(const std::string& daemon_id, std::string address, std::string dial_key,
                  bool stopped) {
  Pod pod;
  pod.address = std::move(address);
  pod.dial_key = std::move(dial_key);
  pod.phase = stopped ? Phase::stopped : Phase::provisioned;
  pod.changed = world_.now();
  const auto [it, added] = pods_.emplace(daemon_id, std::move(pod));
  RELIANT_ASSERT(added);
  if (!stopped) maybe_exit_later(daemon_id, it->second);
}

void SimPods::maybe_exit_later(const std::string& daemon_id, const Pod& pod) {
  if (options_.exit_share <= 0 || healed_() || !random_.chance(options_.exit_share)) return;
  const Duration after = random_.between(options_.exit_after_min, options_.exit_after_max);
  world_.schedule(
      world_.now() + after, kWorldNode, "pod.exit",
      [this, daemon_id, generation = pod.generation] { exit_now(daemon_id, generation); });
}

void SimPods::exit_now(const std::string& daemon_id, std::uint64_t generation) {
  Pod& pod = pods_.at(daemon_id);
  if (pod.generation != generation || pod.phase != Phase::provisioned || healed_()) return;
  ++exits_;
  world_.coverage().hit("fault.pod.exited");
  ++pod.generation;
  set_phase(pod, Phase::exited);
  if (pod.process == nullptr) return;
  pod.process->hold();  // its process ends, and only a start brings it back
}

void SimPods::attach(const std::string& daemon_id, SimProcess& process) {
  Pod& pod = pods_.at(daemon_id);
  pod.process = &process;
  if (pod.phase == Phase::stopped) process.hold();
}

const SimPods::Pod* SimPods::find(const std::string& daemon_id) const {
  const auto it = pods_.find(daemon_id);
  return it == pods_.end() ? nullptr : &it->second;
}

bool SimPods::held(const std::string& daemon_id) const {
  const Pod* pod = find(daemon_id);
  return pod != nullptr && pod->phase != Phase::provisioned;
}

ProvisionedDaemon SimPods::observe(const std::string& daemon_id) const {
  ProvisionedDaemon out;
  const Pod* pod = find(daemon_id);
  if (pod == nullptr || pod->phase == Phase::removed) return out;  // absent
  out.address = pod->address;
  switch (pod->phase) {
    case Phase::starting:
      out.presence = PodState::starting;
      break;
    case Phase::failed:
      out.presence = PodState::exited;
      out.detail = "the pod failed to start (simulated)";
      break;
    case Phase::stopped:
      out.presence = PodState::exited;
      out.detail = "stopped";
      break;
    case Phase::exited:
      out.presence = PodState::exited;
      out.detail = "the pod exited (simulated)";
      break;
    default:
      // Provisioned: its process runs, or crashed and waits for the fault plan's restart.
      out.presence =
          pod->process != nullptr && pod->process->running() ? PodState::running : PodState::exited;
  }
  return out;
}

ProvisionedDaemon SimPods::start(const std::string& daemon_id, const std::string& dial_key) {
  const auto it = pods_.find(daemon_id);
  if (it == pods_.end()) return {};
  Pod& pod = it->second;
  if (pod.phase == Phase::starting) return observe(daemon_id);
  if (pod.phase == Phase::provisioned && pod.process != nullptr && pod.process->running()) {
    return observe(daemon_id);  // idempotent: a running pod is left alone
  }
  ++starts_;
  ++pod.generation;
  pod.dial_key = dial_key;  // the process that comes up is told this one
  set_phase(pod, Phase::starting);
  if (pod.process != nullptr) pod.process->hold();  // nothing else starts it meanwhile
  const Duration delay = random_.between(options_.start_delay_min, options_.start_delay_max);
  world_.schedule(
      world_.now() + delay, kWorldNode, "pod.start",
      [this, daemon_id, generation = pod.generation] { come_up(daemon_id, generation); });
  return observe(daemon_id);
}

void SimPods::come_up(const std::string& daemon_id, std::uint64_t generation) {
  Pod& pod = pods_.at(daemon_id);
  if (pod.generation != generation || pod.phase != Phase::starting) return;
  if (!healed_() && random_.chance(options_.start_failure_share)) {
    ++start_failures_;
    world_.coverage().hit("fault.pod.start_failed");
    set_phase(pod, Phase::failed);
    return;
  }
  set_phase(pod, Phase::provisioned);
  maybe_exit_later(daemon_id, pod);
  if (pod.process == nullptr) return;
  pod.process->release();
  pod.process->start_unless_held();
}

void SimPods::stop(const std::string& daemon_id) { hold_down(daemon_id, Phase::stopped); }

void SimPods::remove(const std::string& daemon_id) { hold_down(daemon_id, Phase::removed); }

void SimPods::hold_down(const std::string& daemon_id, Phase phase) {
  const auto it = pods_.find(daemon_id);
  if (it == pods_.end() || it->second.phase == Phase::removed) return;  // removed stays so
  Pod& pod = it->second;
  if (phase == Phase::stopped) ++stops_;
  ++pod.generation;  // a start on its way is void
  set_phase(pod, phase);
  if (pod.process != nullptr) pod.process->hold();
}

void SimPods::set_phase(Pod& pod, Phase phase) {
  pod.phase = phase;
  pod.changed = world_.now();
}

}  // namespace reliant::sim
