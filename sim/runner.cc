// One simulation run: topology → processes, fault mix → world events, heal, liveness, report.
#include "sim/runner.h"

#include <cstdio>
#include <map>
#include <memory>

#include "sim/fault_mix.h"
#include "sim/process.h"

namespace reliant::sim {
namespace {

struct Node {
  std::string role;
  EchoStats stats;
  std::unique_ptr<SimProcess> process;
};

Instant at(Duration since_start) { return kSimEpoch + since_start; }

}  // namespace

std::string RunReport::reproduce_command() const {
  return "reliant-sim run " + scenario_file + " --seed " + std::to_string(seed);
}

RunReport run_scenario(const Scenario& scenario, std::uint64_t seed) {
  World world(seed);
  Network network(scenario.latency.min, scenario.latency.max);
  SimBroker broker(world, network);
  SimStreams streams(world, network);
  Checker checker;
  Random fault_random = world.random().split("faults");
  const FaultMix mix = draw_fault_mix(scenario, fault_random);

  std::vector<std::string> server_addresses;
  for (const auto& group : scenario.topology) {
    if (group.role != "echo_server") continue;
    for (int i = 1; i <= group.count; ++i) {
      server_addresses.push_back(group.name + "-" + std::to_string(i) + ":" +
                                 std::to_string(group.port));
    }
  }

  // Nodes in topology order; std::map keyed by name only for lookups, never iterated for effects.
  std::vector<std::unique_ptr<Node>> nodes;
  std::map<std::string, Node*> by_name;
  std::size_t offset_index = 0;
  for (const auto& group : scenario.topology) {
    for (int i = 1; i <= group.count; ++i) {
      const std::string name = group.name + "-" + std::to_string(i);
      auto node = std::make_unique<Node>();
      node->role = group.role;
      EchoStats* stats = &node->stats;
      ComponentFactory factory;
      if (group.role == "echo_server") {
        const std::string address = name + ":" + std::to_string(group.port);
        factory = [stats, name, address](Env& env) -> std::shared_ptr<void> {
          return std::make_shared<EchoServer>(env, EchoServerConfig{name, address}, *stats);
        };
      } else {
        EchoClientConfig config = group.client;
        config.servers = server_addresses;
        factory = [stats, name, config, &checker](Env& env) -> std::shared_ptr<void> {
          return std::make_shared<EchoClient>(env, name, config, *stats, checker);
        };
      }
      const NodeId id = world.add_node(name);
      node->process = std::make_unique<SimProcess>(world, broker, streams, id, std::move(factory),
                                                   mix.clock_offsets[offset_index++].second);
      by_name[name] = node.get();
      nodes.push_back(std::move(node));
    }
  }
  for (auto& node : nodes) node->process->start();

  // Faults, from the start until heal_at.
  network.bus_faults() = mix.bus;
  const Instant heal = at(scenario.heal_at);
  for (const auto& fault : mix.events) {
    world.schedule(at(fault.at), kWorldNode, "fault", [&, fault] {
      switch (fault.kind) {
        case ScriptedFault::Kind::crash: {
          SimProcess* process = by_name.at(fault.node)->process.get();
          if (!process->running()) return;
          process->crash();
          world.schedule(std::min(world.now() + fault.length, heal), kWorldNode, "fault.restart",
                         [process] {
                           if (!process->running()) process->start();
                         });
          break;
        }
        case ScriptedFault::Kind::pause: {
          SimProcess* process = by_name.at(fault.node)->process.get();
          process->pause();
          world.schedule(std::min(world.now() + fault.length, heal), kWorldNode, "fault.resume",
                         [process] { process->resume(); });
          break;
        }
        case ScriptedFault::Kind::partition: {
          const NodeId a = by_name.at(fault.node)->process->node();
          const NodeId b = by_name.at(fault.other)->process->node();
          network.block(a, b);
          if (!fault.one_way) network.block(b, a);
          world.schedule(std::min(world.now() + fault.length, heal), kWorldNode,
                         "fault.heal_partition", [&network, a, b] {
                           network.unblock(a, b);
                           network.unblock(b, a);
                         });
          break;
        }
        case ScriptedFault::Kind::reset_stream:
          streams.reset_random_link();
          break;
        case ScriptedFault::Kind::half_open_stream:
          streams.break_random_link();
          break;
      }
    });
  }

  // Liveness phase: heal everything, then require progress in the second half of what is left.
  world.schedule(heal, kWorldNode, "heal", [&] {
    network.bus_faults() = BusFaults{};
    network.heal_partitions();
    for (auto& node : nodes) {
      node->process->resume();
      if (!node->process->running()) node->process->start();
    }
  });
  std::vector<EchoStats> at_checkpoint(nodes.size());
  const Instant checkpoint = heal + (at(scenario.duration) - heal) / 2;
  world.schedule(checkpoint, kWorldNode, "liveness.checkpoint", [&] {
    for (std::size_t i = 0; i < nodes.size(); ++i) at_checkpoint[i] = nodes[i]->stats;
  });

  world.run_until(at(scenario.duration));

  if (scenario.checks("liveness")) {
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const Node& node = *nodes[i];
      if (node.role != "echo_client") continue;
      const std::string& name = world.node_name(node.process->node());
      if (node.stats.frames_echoed <= at_checkpoint[i].frames_echoed) {
        checker.violation(world.now(), "liveness",
                          name + " received no stream echo in the " +
                              format_duration(at(scenario.duration) - checkpoint) +
                              " before the end, although every fault was healed at " +
                              format_duration(scenario.heal_at));
      }
      if (node.stats.requests_ok <= at_checkpoint[i].requests_ok) {
        checker.violation(world.now(), "liveness",
                          name + " got no bus reply in the " +
                              format_duration(at(scenario.duration) - checkpoint) +
                              " before the end, although every fault was healed at " +
                              format_duration(scenario.heal_at));
      }
    }
  }

  RunReport report;
  report.scenario_file = scenario.file;
  report.scenario_name = scenario.name;
  report.seed = seed;
  report.fault_mix = mix.describe();
  for (const auto& v : checker.violations()) {
    if (scenario.checks(v.invariant)) report.violations.push_back(v);
  }
  report.trace_hash = world.trace().hex_digest();
  report.trace_events = world.trace().events();
  report.simulated = scenario.duration;
  for (const auto& node : nodes) {
    report.nodes.push_back(NodeReport{world.node_name(node->process->node()), node->role,
                                      node->process->starts(), node->process->crashes(),
                                      node->process->running(), node->stats});
  }
  report.bus = broker.stats();
  report.streams = streams.stats();
  report.last_events = world.trace().recent();
  for (const auto& record : report.last_events)
    report.last_event_nodes.push_back(world.node_name(record.node));
  return report;
}

std::string format_report(const RunReport& r) {
  std::string out;
  char line[256];
  out += "scenario " + r.scenario_name + " (" + r.scenario_file + "), seed " +
         std::to_string(r.seed) + ", " + format_duration(r.simulated) + " simulated\n";
  out += "faults: " + r.fault_mix + "\n\n";
  std::snprintf(line, sizeof line, "%-12s %-12s %6s %7s %7s %6s %7s %7s %7s %6s %6s %6s\n", "node",
                "role", "starts", "crashes", "streams", "stale", "sent", "echoed", "req-ok",
                "req-to", "req-nr", "annc");
  out += line;
  for (const auto& n : r.nodes) {
    const auto& s = n.stats;
    std::snprintf(
        line, sizeof line, "%-12s %-12s %6u %7u %7llu %6llu %7llu %7llu %7llu %6llu %6llu %6llu\n",
        n.name.c_str(), n.role.c_str(), n.starts, n.crashes,
        static_cast<unsigned long long>(s.connections),
        static_cast<unsigned long long>(s.stale_streams),
        static_cast<unsigned long long>(s.frames_sent),
        static_cast<unsigned long long>(s.frames_echoed),
        static_cast<unsigned long long>(n.role == "echo_server" ? s.jobs_done : s.requests_ok),
        static_cast<unsigned long long>(s.requests_timeout),
        static_cast<unsigned long long>(s.requests_no_responders),
        static_cast<unsigned long long>(s.announcements));
    out += line;
  }
  std::snprintf(line, sizeof line,
                "\nbus: %llu published, %llu delivered, %llu dropped, %llu lost to partitions, "
                "%llu duplicated, "
                "%llu delayed, %llu reordered, %llu no-responders\n",
                static_cast<unsigned long long>(r.bus.published),
                static_cast<unsigned long long>(r.bus.delivered),
                static_cast<unsigned long long>(r.bus.dropped),
                static_cast<unsigned long long>(r.bus.partitioned),
                static_cast<unsigned long long>(r.bus.duplicated),
                static_cast<unsigned long long>(r.bus.delayed),
                static_cast<unsigned long long>(r.bus.reordered),
                static_cast<unsigned long long>(r.bus.no_responders));
  out += line;
  std::snprintf(
      line, sizeof line,
      "streams: %llu opened, %llu refused, %llu frames, %llu lost, %llu reset, %llu half-open\n",
      static_cast<unsigned long long>(r.streams.opened),
      static_cast<unsigned long long>(r.streams.refused),
      static_cast<unsigned long long>(r.streams.frames),
      static_cast<unsigned long long>(r.streams.lost),
      static_cast<unsigned long long>(r.streams.resets),
      static_cast<unsigned long long>(r.streams.half_open));
  out += line;
  out +=
      "\n(streams: opened or accepted; stale: closed for silence; req-ok: replies received, or "
      "answered by a "
      "server; req-to: timeouts; req-nr: no responders; annc: announcements published, or heard by "
      "a client)\n\n";
  if (r.passed()) {
    out += "invariants: all held\n";
  } else {
    out += "invariants: " + std::to_string(r.violations.size()) + " violation(s)\n";
    for (const auto& v : r.violations) {
      out += "  FAILED " + v.invariant + " at t=" + format_duration(v.at - kSimEpoch) + ": " +
             v.detail + "\n";
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
  out += "trace: " + std::to_string(r.trace_events) + " events, sha256 " + r.trace_hash + "\n";
  if (!r.passed()) out += "reproduce: " + r.reproduce_command() + "\n";
  return out;
}

}  // namespace reliant::sim
