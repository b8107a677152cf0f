// One simulation run: topology → processes, fault mix → world events, heal, liveness, report.
#include "sim/runner.h"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "sim/fault_mix.h"
#include "sim/process.h"
#include "sim/schema_image.h"
#include "sim/scripted_faults.h"
#include "sim/sim_buggify.h"
#include "sim/workload/workloads.h"

namespace reliant::sim {
namespace {

Instant at(Duration since_start) { return kSimEpoch + since_start; }

Workload& workload_for(const std::vector<std::unique_ptr<Workload>>& workloads,
                       std::string_view role) {
  for (const auto& workload : workloads) {
    if (workload->builds(role)) return *workload;
  }
  RELIANT_ASSERT_MSG(false, ("no workload builds the role " + std::string(role)).c_str());
  std::abort();
}

// The faults the ports counted as they fired them (the fault plan counts its own as it applies
// them): the coverage names of declared_faults().
void count_fault_coverage(const RunReport& report, const FaultMix& mix, Coverage& coverage) {
  coverage.hit("fault.bus.drop", report.bus.dropped);
  coverage.hit("fault.bus.duplicate", report.bus.duplicated);
  coverage.hit("fault.bus.delay", report.bus.delayed);
  coverage.hit("fault.bus.reorder", report.bus.reordered);
  coverage.hit("fault.stream.reset", report.streams.resets);
  coverage.hit("fault.stream.half_open", report.streams.half_open);
  coverage.hit("fault.store.fail_before_commit", report.store.failed_before_commit);
  coverage.hit("fault.store.outcome_unknown", report.store.outcome_unknown);
  coverage.hit("fault.store.slow", report.store.slow);
  coverage.hit("fault.protocol.bus_garbage", report.bus.garbage);
  coverage.hit("fault.protocol.garbage_frame", report.streams.garbage);
  coverage.hit("fault.protocol.truncated_frame", report.streams.truncated);
  coverage.hit("fault.protocol.unknown_frame", report.streams.unknown);
  coverage.hit("fault.store.partition", report.store.refused_cut_off);
  coverage.hit("fault.host.hang", report.host.hangs);
  coverage.hit("fault.host.disk_full", report.host.disk_full);
  coverage.hit("fault.llm.error", report.llm.errors);
  coverage.hit("fault.llm.slow", report.llm.slow);
  coverage.hit("fault.llm.malformed_call", report.llm.malformed);
  for (const auto& [node, offset] : mix.clock_offsets) {
    if (offset != Duration::zero()) coverage.hit("fault.clock.skew");
  }
  for (double drift : mix.clock_drifts) {
    if (drift != 0) coverage.hit("fault.clock.drift");
  }
}

}  // namespace

std::string RunReport::reproduce_command() const {
  std::string line = "reliant-sim run " + scenario_file + " --seed " + std::to_string(seed);
  if (!build.empty()) line += "  # build " + build;
  return line;
}

RunReport run_scenario(const Scenario& scenario, std::uint64_t seed, const RunHooks& hooks) {
  World world(seed);
  world.log_book().echo = hooks.on_log_line;
  if (hooks.on_trace) {
    world.trace().on_record = [&world, &hooks](const TraceRecord& r) {
      hooks.on_trace(r, world.node_name(r.node));
    };
  }
  Network network(scenario.latency.min, scenario.latency.max);
  SimBroker broker(world, network);
  SimStreams streams(world, network);
  std::unique_ptr<SimDatabase> database;
  if (scenario.has_database()) database = std::make_unique<SimDatabase>(world, network);
  SimModel model(world);
  SimHostFaults host_faults(world.random().split("host"));
  Checker checker;
  Random fault_random = world.random().split("faults");
  const FaultMix mix = draw_fault_mix(scenario, fault_random);
  const Swarm swarm = draw_swarm(scenario, seed);
  const std::string drawn =
      mix.describe() + (swarm.describe().empty() ? "" : " | " + swarm.describe());
  SimBuggify buggify(world, scenario.buggify);
  if (hooks.on_fault_mix) hooks.on_fault_mix(drawn);

  if (database) {
    // The database starts as a copy of the migrated schema, and the migrator still runs before
    // any process starts, in virtual time, as a starting binary does: it finds every migration
    // applied, in the same transactions (the same world events) as when it applied them.
    auto loaded = database->database().load_image(migrated_schema_image());
    RELIANT_ASSERT_MSG(loaded.has_value(), "cannot load the migrated schema");
    migrate_in_world(world, *database);
  }
  const std::vector<std::unique_ptr<Workload>> workloads = make_workloads(WorkloadContext{
      world, scenario, database.get(), streams, checker, swarm, model, host_faults});
  for (const auto& workload : workloads) workload->seed();

  // Processes in topology order; the map is for lookups by name only, never iterated for effects
  // other than attach (in name order, the same every run).
  std::vector<std::unique_ptr<SimProcess>> processes;
  std::vector<std::string> roles;
  std::map<std::string, SimProcess*> by_name;
  std::size_t offset_index = 0;
  for (const auto& group : scenario.topology) {
    Workload& workload = workload_for(workloads, group.role());
    for (int i = 1; i <= group.count; ++i) {
      const std::string name = group.name + "-" + std::to_string(i);
      ComponentFactory factory = workload.factory(group, name);
      const NodeId id = world.add_node(name);
      processes.push_back(std::make_unique<SimProcess>(
          world, broker, streams, id, std::move(factory), mix.clock_offsets[offset_index++].second,
          database.get(), &buggify));
      roles.emplace_back(group.role());
      by_name[name] = processes.back().get();
    }
  }
  for (const auto& workload : workloads) {
    for (const auto& [name, process] : by_name) workload->attach(name, *process);
    workload->begin();
  }
  for (std::size_t i = 0; i < processes.size(); ++i) {
    if (mix.clock_drifts[i] != 0) processes[i]->clock().drift(mix.clock_drifts[i], world.now());
  }
  for (auto& process : processes) process->start_unless_held();

  // Faults, from the start until heal_at.
  network.bus_faults() = mix.bus;
  network.stream_faults() = mix.streams;
  model.faults() = mix.llm;
  host_faults.faults() = mix.host;
  if (database) database->faults() = mix.store;
  const Instant heal = at(scenario.heal_at);
  FaultTargets targets{world, network, streams, database.get(), by_name, heal};
  for (const auto& fault : mix.events) {
    world.schedule(at(fault.at), kWorldNode, "fault", [&, fault] {
      if (!scripted_fault(fault.kind).inject(targets, fault)) return;
      for (const auto& workload : workloads) workload->apply(fault);
    });
  }

  // Liveness phase: heal everything, then require progress in the second half of what is left.
  world.schedule(heal, kWorldNode, "heal", [&] {
    buggify.heal();
    network.bus_faults() = BusFaults{};
    network.stream_faults() = StreamFaults{};
    model.faults() = LlmFaults{};
    host_faults.faults() = HostFaults{};
    for (auto& process : processes) process->clock().stop_drift(world.now());
    network.heal_partitions();
    if (database) database->faults() = StoreFaults{};
    for (auto& process : processes) {
      process->resume();
      process->start_unless_held();
    }
  });
  const Instant checkpoint = heal + (at(scenario.duration) - heal) / 2;
  world.schedule(checkpoint, kWorldNode, "liveness.checkpoint", [&] {
    for (const auto& workload : workloads) workload->checkpoint(world.now());
  });

  world.run_until(at(scenario.duration));
  for (const auto& workload : workloads) workload->finish(world.now());

  RunReport report;
  report.has_database = database != nullptr;
  if (database) report.store = database->stats();
  report.scenario_file = scenario.file;
  report.scenario_name = scenario.name;
  report.seed = seed;
  report.drawn_faults = mix;
  report.fault_mix = drawn;
  for (const auto& v : checker.violations()) {
    if (scenario.checks(v.invariant)) report.violations.push_back(v);
  }
  report.trace_hash = world.trace().hex_digest();
  report.trace_events = world.trace().events();
  report.simulated = scenario.duration;
  for (std::size_t i = 0; i < processes.size(); ++i) {
    const SimProcess& process = *processes[i];
    report.nodes.push_back(NodeReport{world.node_name(process.node()), roles[i], process.starts(),
                                      process.crashes(), process.running()});
  }
  for (const auto& workload : workloads) workload->summarize(report);
  report.bus = broker.stats();
  report.streams = streams.stats();
  report.llm = model.stats();
  report.host = host_faults.stats();
  count_fault_coverage(report, mix, world.coverage());
  report.coverage = world.coverage();
  report.last_events = world.trace().recent();
  report.last_log_lines = world.log_book().recent;
  for (const auto& record : report.last_events) {
    report.last_event_nodes.push_back(world.node_name(record.node));
  }
  return report;
}

namespace {

std::string u(std::uint64_t v) { return std::to_string(v); }

}  // namespace

std::string format_report(const RunReport& r) {
  std::string out;
  char line[256];
  out += "scenario " + r.scenario_name + " (" + r.scenario_file + "), seed " +
         std::to_string(r.seed) + ", " + format_duration(r.simulated) + " simulated\n";
  out += "faults: " + r.fault_mix + "\n\n";
  for (std::size_t i = 0; i < r.sections.size(); ++i) {
    if (i > 0) out += "\n";
    out += r.sections[i];
  }
  out += "bus: " + u(r.bus.published) + " published, " + u(r.bus.delivered) + " delivered, " +
         u(r.bus.dropped) + " dropped, " + u(r.bus.partitioned) + " lost to partitions, " +
         u(r.bus.duplicated) + " duplicated, " + u(r.bus.delayed) + " delayed, " +
         u(r.bus.reordered) + " reordered, " + u(r.bus.no_responders) + " no-responders\n";
  if (r.streams.opened + r.streams.refused > 0) {
    out += "streams: " + u(r.streams.opened) + " opened, " + u(r.streams.refused) + " refused, " +
           u(r.streams.frames) + " frames, " + u(r.streams.lost) + " lost, " + u(r.streams.resets) +
           " reset, " + u(r.streams.half_open) + " half-open\n";
  }
  out += "\n";
  if (r.passed()) {
    out += "invariants: all held\n";
  } else {
    out += "invariants: " + std::to_string(r.violations.size()) + " violation(s)\n";
    for (const auto& v : r.violations) {
      out += "  FAILED " + v.invariant + " at t=" + format_duration(v.at - kSimEpoch) + ": " +
             v.detail + "\n";
    }
    if (!r.last_log_lines.empty()) {
      out += "last log lines before the end of the run:\n";
      const std::size_t shown = std::min<std::size_t>(r.last_log_lines.size(), 30);
      for (std::size_t i = r.last_log_lines.size() - shown; i < r.last_log_lines.size(); ++i) {
        out += "  " + r.last_log_lines[i] + "\n";
      }
    }
    out += "last events before the end of the run:\n";
    for (std::size_t i = 0; i < r.last_events.size(); ++i) {
      const auto& e = r.last_events[i];
      std::snprintf(line, sizeof line, "  t=%-10s %-12s %-22s %016llx\n",
                    format_duration(e.at - kSimEpoch).c_str(), r.last_event_nodes[i].c_str(),
                    e.kind, static_cast<unsigned long long>(e.digest));
      out += line;
    }
  }
  out +=
      "coverage: " + (r.coverage.counts().empty() ? "nothing fired" : r.coverage.encode()) + "\n";
  out += "trace: " + std::to_string(r.trace_events) + " events, sha256 " + r.trace_hash + "\n";
  if (!r.passed()) out += "reproduce: " + r.reproduce_command() + "\n";
  return out;
}

}  // namespace reliant::sim
