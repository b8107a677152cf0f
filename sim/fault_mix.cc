// Drawing a seed's faults: uniform times before heal_at, uniform nodes, ranges from the scenario.
#include "sim/fault_mix.h"
#include "sim/scripted_faults.h"

#include <algorithm>
#include <cstdio>

namespace reliant::sim {
namespace {

std::string percent(double p) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f%%", p * 100);
  return buf;
}

double draw(Random& random, const Range<double>& r) {
  return r.min + (r.max - r.min) * random.unit();
}
int draw(Random& random, const Range<int>& r) {
  return static_cast<int>(random.between(r.min, r.max));
}
Duration draw(Random& random, const Range<Duration>& r) { return random.between(r.min, r.max); }

}  // namespace

FaultMix draw_fault_mix(const Scenario& scenario, Random& random) {
  FaultMix mix;
  const FaultRanges& f = scenario.faults;
  mix.bus.drop = draw(random, f.bus_drop);
  mix.bus.duplicate = draw(random, f.bus_duplicate);
  mix.bus.delay = draw(random, f.bus_delay);
  mix.bus.reorder = draw(random, f.bus_reorder);

  const auto nodes = scenario.node_names();
  for (const auto& name : nodes) mix.clock_offsets.emplace_back(name, draw(random, f.clock_offset));
  // Per-node clock settings come before any count is drawn: a shrunk scenario, whose counts are
  // zero and whose faults are a plan, keeps its clocks (sim/shrink.h).
  mix.clock_drifts.assign(nodes.size(), 0.0);
  if (f.clock_drift.min != 0 || f.clock_drift.max != 0) {
    for (double& drift : mix.clock_drifts) drift = draw(random, f.clock_drift);
  }

  const Range<Duration> window{Duration::zero(), scenario.heal_at - Duration(1)};
  auto any_node = [&] { return nodes[random.below(nodes.size())]; };
  // `count` events of `kind`, each drawn as: when, on which node (if it names one), how long (if
  // it lasts). The order of the draws is part of every seed's meaning: keep it.
  auto timed = [&](ScriptedFault::Kind kind, const Range<int>& count, const Range<Duration>* length,
                   bool on_a_node) {
    for (int i = draw(random, count); i > 0; --i) {
      ScriptedFault fault;
      fault.kind = kind;
      fault.at = draw(random, window);
      if (on_a_node) fault.node = any_node();
      if (length != nullptr) fault.length = draw(random, *length);
      mix.events.push_back(fault);
    }
  };
  timed(ScriptedFault::Kind::crash, f.crashes, &f.restart_after, true);
  timed(ScriptedFault::Kind::pause, f.pauses, &f.pause_length, true);
  for (int i = nodes.size() < 2 ? 0 : draw(random, f.partitions); i > 0; --i) {
    ScriptedFault fault;
    fault.kind = ScriptedFault::Kind::partition;
    fault.at = draw(random, window);
    const std::size_t a = random.below(nodes.size());
    std::size_t b = random.below(nodes.size() - 1);
    if (b >= a) ++b;  // any node but a
    fault.node = nodes[a];
    fault.other = nodes[b];
    fault.one_way = random.chance(f.one_way_share);
    fault.length = draw(random, f.partition_length);
    mix.events.push_back(fault);
  }
  timed(ScriptedFault::Kind::reset_stream, f.stream_resets, nullptr, false);
  timed(ScriptedFault::Kind::half_open_stream, f.half_open, nullptr, false);
  // Drawn last, so that adding them changed no scenario without a database.
  if (scenario.has_database()) {
    mix.store.fail_before_commit = draw(random, f.store_fail_before_commit);
    mix.store.fail_after_commit = draw(random, f.store_fail_after_commit);
    mix.store.slow = draw(random, f.store_slow);
    mix.store.slow_min = f.store_slow_delay.min;
    mix.store.slow_max = f.store_slow_delay.max;
    timed(ScriptedFault::Kind::store_outage, f.store_outages, &f.store_outage_length, false);
  }
  // The later fault classes, each drawn only where the scenario declares it, so that seeds of
  // scenarios without them keep their faults.
  if (f.clock_jumps.max > 0) {
    timed(ScriptedFault::Kind::clock_jump, f.clock_jumps, &f.clock_jump_length, true);
  }
  if (f.bus_outages.max > 0) {
    timed(ScriptedFault::Kind::bus_outage, f.bus_outages, &f.bus_outage_length, false);
  }
  if (scenario.has_database() && f.store_partitions.max > 0) {
    timed(ScriptedFault::Kind::store_partition, f.store_partitions, &f.store_partition_length,
          true);
  }
  if (scenario.has_role("chat_worker")) {
    if (f.llm_error.max > 0) mix.llm.error = draw(random, f.llm_error);
    if (f.llm_slow.max > 0) mix.llm.slow = draw(random, f.llm_slow);
    if (f.llm_malformed.max > 0) mix.llm.malformed = draw(random, f.llm_malformed);
    mix.llm.slow_min = f.llm_slow_delay.min;
    mix.llm.slow_max = f.llm_slow_delay.max;
  }
  if (scenario.has_role("daemon")) {
    if (f.host_hang.max > 0) mix.host.hang = draw(random, f.host_hang);
    if (f.host_disk_full.max > 0) mix.host.disk_full = draw(random, f.host_disk_full);
  }
  if (f.bus_garbage.max > 0) mix.bus.garbage = draw(random, f.bus_garbage);
  if (f.stream_garbage.max > 0) mix.streams.garbage = draw(random, f.stream_garbage);
  if (f.stream_truncated.max > 0) mix.streams.truncated = draw(random, f.stream_truncated);
  if (f.stream_unknown.max > 0) mix.streams.unknown = draw(random, f.stream_unknown);
  if (f.clock_steps_back.max > 0) {
    timed(ScriptedFault::Kind::clock_step_back, f.clock_steps_back, &f.clock_step_back_length,
          true);
  }

  mix.events.insert(mix.events.end(), scenario.plan.begin(), scenario.plan.end());
  std::stable_sort(mix.events.begin(), mix.events.end(),
                   [](const ScriptedFault& a, const ScriptedFault& b) { return a.at < b.at; });
  return mix;
}

std::set<std::string> declared_faults(const Scenario& scenario) {
  std::set<std::string> declared;
  const FaultRanges& f = scenario.faults;
  auto range = [&](const char* name, auto max) {
    if (max > decltype(max){}) declared.insert(name);
  };
  range("fault.bus.drop", f.bus_drop.max);
  range("fault.bus.duplicate", f.bus_duplicate.max);
  range("fault.bus.delay", f.bus_delay.max);
  range("fault.bus.reorder", f.bus_reorder.max);
  range("fault.process.crash", f.crashes.max);
  range("fault.process.pause", f.pauses.max);
  if (scenario.node_names().size() >= 2) range("fault.net.partition", f.partitions.max);
  range("fault.stream.reset", f.stream_resets.max);
  range("fault.stream.half_open", f.half_open.max);
  if (f.clock_offset.min != Duration::zero() || f.clock_offset.max != Duration::zero()) {
    declared.insert("fault.clock.skew");
  }
  if (f.clock_drift.min != 0 || f.clock_drift.max != 0) declared.insert("fault.clock.drift");
  range("fault.clock.jump", f.clock_jumps.max);
  range("fault.clock.step_back", f.clock_steps_back.max);
  range("fault.bus.outage", f.bus_outages.max);
  if (scenario.has_role("chat_worker")) {
    range("fault.llm.error", f.llm_error.max);
    range("fault.llm.slow", f.llm_slow.max);
    range("fault.llm.malformed_call", f.llm_malformed.max);
  }
  if (scenario.has_role("daemon")) {
    range("fault.host.hang", f.host_hang.max);
    range("fault.host.disk_full", f.host_disk_full.max);
  }
  range("fault.protocol.bus_garbage", f.bus_garbage.max);
  range("fault.protocol.garbage_frame", f.stream_garbage.max);
  range("fault.protocol.truncated_frame", f.stream_truncated.max);
  range("fault.protocol.unknown_frame", f.stream_unknown.max);
  if (scenario.has_database()) {
    range("fault.store.partition", f.store_partitions.max);
    range("fault.store.fail_before_commit", f.store_fail_before_commit.max);
    range("fault.store.outcome_unknown", f.store_fail_after_commit.max);
    range("fault.store.slow", f.store_slow.max);
    range("fault.store.outage", f.store_outages.max);
  }
  for (const auto& fault : scenario.plan) {
    const ScriptedFaultRow& row = scripted_fault(fault.kind);
    if (!row.needs_database || scenario.has_database()) declared.emplace(row.counter);
  }
  return declared;
}

std::string FaultMix::describe() const {
  std::string out = "bus drop=" + percent(bus.drop) + " dup=" + percent(bus.duplicate) +
                    " delay=" + percent(bus.delay) + " reorder=" + percent(bus.reorder);
  if (store.fail_before_commit > 0 || store.fail_after_commit > 0 || store.slow > 0) {
    out += " | store fail-before-commit=" + percent(store.fail_before_commit) +
           " outcome-unknown=" + percent(store.fail_after_commit) + " slow=" + percent(store.slow);
  }
  Duration offset_max{};
  for (const auto& [name, offset] : clock_offsets)
    offset_max = std::max(offset_max, offset < Duration::zero() ? -offset : offset);
  if (offset_max > Duration::zero()) out += " | clock skew up to " + format_duration(offset_max);
  double drift_max = 0;
  for (double drift : clock_drifts) drift_max = std::max(drift_max, drift < 0 ? -drift : drift);
  if (drift_max > 0) out += " | clock drift up to " + percent(drift_max);
  if (bus.garbage > 0) out += " | bus garbage=" + percent(bus.garbage);
  if (host.any())
    out += " | host hang=" + percent(host.hang) + " disk-full=" + percent(host.disk_full);
  if (llm.any()) {
    out += " | llm error=" + percent(llm.error) + " slow=" + percent(llm.slow) +
           " malformed=" + percent(llm.malformed);
  }
  if (streams.any()) {
    out += " | streams garbage=" + percent(streams.garbage) +
           " truncated=" + percent(streams.truncated) + " unknown=" + percent(streams.unknown);
  }
  for (const auto& e : events) out += " | " + scripted_fault(e.kind).describe(e);
  if (events.empty()) out += " | no process or link faults";
  return out;
}

}  // namespace reliant::sim
