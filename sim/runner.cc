// One simulation run: topology → processes, fault mix → world events, heal, liveness, report.
#include "sim/runner.h"

#include <cstdio>
#include <map>
#include <memory>

#include "runtime/scope.h"
#include "services/storage/migrator.h"
#include "sim/fault_mix.h"
#include "sim/process.h"

namespace reliant::sim {
namespace {

struct Node {
  std::string role;
  EchoStats stats;
  engine::WorkerStats worker_total;  // of crashed incarnations
  std::weak_ptr<SimWorker> worker;   // the live incarnation's worker, if any
  EngineClientStats engine_client;
  std::int64_t runs_expected = 0;
  std::unique_ptr<SimProcess> process;
};

Instant at(Duration since_start) { return kSimEpoch + since_start; }

// The schema is migrated before any process starts, in virtual time, through the same
// migrator the binaries use.
Task<void> migrate(Store& store, Instant now, bool* done) {
  Task<Result<std::vector<std::int64_t>>> pending = migrate_up(store, now);
  Result<std::vector<std::int64_t>> applied = co_await pending;
  RELIANT_ASSERT_MSG(applied.has_value(), "migrating the simulator's database failed");
  *done = true;
}

ComponentFactory factory_for(const NodeGroup& group, const std::string& name, Node& node,
                             const std::vector<std::string>& servers, Checker& checker,
                             const EngineRegistries& registries, ToolPathWorkload* tools,
                             ChatWorkload* chats) {
  if (group.role == "chat_api" || group.role == "chat_worker" || group.role == "chat_client") {
    return chats->factory(group, name);
  }
  if (group.role == "gateway" || group.role == "daemon" || group.role == "tool_client" ||
      group.role == "control_plane") {
    return tools->factory(group, name);
  }
  EchoStats* stats = &node.stats;
  if (group.role == "echo_server") {
    const std::string address = name + ":" + std::to_string(group.port);
    return [stats, name, address](Env& env) -> std::shared_ptr<void> {
      return std::make_shared<EchoServer>(env, EchoServerConfig{name, address}, *stats);
    };
  }
  if (group.role == "echo_client") {
    EchoClientConfig config = group.client;
    config.servers = servers;
    return [stats, name, config, &checker](Env& env) -> std::shared_ptr<void> {
      return std::make_shared<EchoClient>(env, name, config, *stats, checker);
    };
  }
  if (group.role == "engine_worker") {
    const EngineWorkerSettings settings = group.worker;
    Node* n = &node;
    return [n, name, settings, &registries](Env& env) -> std::shared_ptr<void> {
      auto worker = std::make_shared<SimWorker>(env, name, settings, registries, n->worker_total);
      n->worker = worker;
      return worker;
    };
  }
  RELIANT_ASSERT(group.role == "engine_client");
  const EngineClientConfig config = group.engine_client;
  EngineClientStats* client_stats = &node.engine_client;
  return [client_stats, name, config](Env& env) -> std::shared_ptr<void> {
    return std::make_shared<EngineClient>(env, name, config, *client_stats);
  };
}

}  // namespace

std::string RunReport::reproduce_command() const {
  return "reliant-sim run " + scenario_file + " --seed " + std::to_string(seed);
}

RunReport run_scenario(const Scenario& scenario, std::uint64_t seed, const RunHooks& hooks) {
  World world(seed);
  world.log_book().echo = hooks.on_log_line;
  Network network(scenario.latency.min, scenario.latency.max);
  SimBroker broker(world, network);
  SimStreams streams(world, network);
  const bool engine_roles = scenario.has_role("engine_worker");
  const bool tool_roles = scenario.has_role("gateway");
  std::unique_ptr<SimDatabase> database;
  if (scenario.has_database()) database = std::make_unique<SimDatabase>(world, network);
  const EngineRegistries registries;
  Checker checker;
  Random fault_random = world.random().split("faults");
  const FaultMix mix = draw_fault_mix(scenario, fault_random);
  if (hooks.on_fault_mix) hooks.on_fault_mix(mix.describe());

  if (database) {
    SimExecutor setup(world, kWorldNode);
    SimStore store(*database, setup);
    bool migrated = false;
    {
      Scope scope(setup);
      scope.spawn(migrate(store, world.now(), &migrated));
      while (!migrated && world.step()) {
      }
    }
    RELIANT_ASSERT(migrated);
  }
  std::unique_ptr<ToolPathWorkload> tools;
  if (tool_roles) {
    tools = std::make_unique<ToolPathWorkload>(world, scenario, *database, checker);
    tools->seed();
  }
  std::unique_ptr<ChatWorkload> chats;
  if (scenario.has_role("chat_client")) {
    chats = std::make_unique<ChatWorkload>(world, scenario, *database, checker);
    chats->seed();
  }

  std::vector<std::string> server_addresses;
  for (const auto& group : scenario.topology) {
    if (group.role != "echo_server") continue;
    for (int i = 1; i <= group.count; ++i) {
      server_addresses.push_back(group.name + "-" + std::to_string(i) + ":" +
                                 std::to_string(group.port));
    }
  }

  // Nodes in topology order; the map is for lookups by name only, never iterated for effects.
  std::vector<std::unique_ptr<Node>> nodes;
  std::map<std::string, Node*> by_name;
  std::size_t offset_index = 0;
  for (const auto& group : scenario.topology) {
    for (int i = 1; i <= group.count; ++i) {
      const std::string name = group.name + "-" + std::to_string(i);
      auto node = std::make_unique<Node>();
      node->role = group.role;
      node->runs_expected = group.role == "engine_client" ? group.engine_client.runs : 0;
      ComponentFactory factory = factory_for(group, name, *node, server_addresses, checker,
                                             registries, tools.get(), chats.get());
      const NodeId id = world.add_node(name);
      node->process =
          std::make_unique<SimProcess>(world, broker, streams, id, std::move(factory),
                                       mix.clock_offsets[offset_index++].second, database.get());
      by_name[name] = node.get();
      nodes.push_back(std::move(node));
    }
  }
  if (tools) {
    for (const auto& [name, node] : by_name) tools->attach(name, *node->process);
    tools->start_sampling();
  }
  for (auto& node : nodes) node->process->start();

  // Faults, from the start until heal_at.
  network.bus_faults() = mix.bus;
  if (database) database->faults() = mix.store;
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
        case ScriptedFault::Kind::revoke_token:
          if (!tools) return;
          tools->revoke_token(fault.node);
          streams.reset_links_of(by_name.at(fault.node)->process->node());
          break;
        case ScriptedFault::Kind::store_outage:
          if (!database) return;
          database->faults().outage = true;
          world.schedule(std::min(world.now() + fault.length, heal), kWorldNode, "fault.store_back",
                         [&database] { database->faults().outage = false; });
          break;
      }
    });
  }

  // Liveness phase: heal everything, then require progress in the second half of what is left.
  world.schedule(heal, kWorldNode, "heal", [&] {
    network.bus_faults() = BusFaults{};
    network.heal_partitions();
    if (database) database->faults() = StoreFaults{};
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
      const std::string window = format_duration(at(scenario.duration) - checkpoint);
      const std::string healed = format_duration(scenario.heal_at);
      if (node.stats.frames_echoed <= at_checkpoint[i].frames_echoed) {
        checker.violation(world.now(), "liveness",
                          name + " received no stream echo in the " + window +
                              " before the end, although every fault was healed at " + healed);
      }
      if (node.stats.requests_ok <= at_checkpoint[i].requests_ok) {
        checker.violation(world.now(), "liveness",
                          name + " got no bus reply in the " + window +
                              " before the end, although every fault was healed at " + healed);
      }
    }
  }

  RunReport report;
  if (chats) {
    chats->finish(world.now());
    report.has_chat = true;
    report.chat = chats->summary();
  }
  if (tools) {
    tools->finish(world.now());
    report.has_tool_path = true;
    report.tools = tools->summary();
  }
  if (database) {
    std::vector<ClientExpectation> clients;
    for (const auto& node : nodes) {
      if (node->role != "engine_client") continue;
      clients.push_back(ClientExpectation{world.node_name(node->process->node()),
                                          &node->engine_client, node->runs_expected});
    }
    report.has_database = true;
    report.has_engine = engine_roles;
    if (engine_roles) {
      report.engine =
          check_engine(database->database(), world.now(), scenario.invariants, clients, checker);
    }
    report.store = database->stats();
  }
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
    NodeReport n{world.node_name(node->process->node()),
                 node->role,
                 node->process->starts(),
                 node->process->crashes(),
                 node->process->running(),
                 node->stats,
                 node->worker_total,
                 node->engine_client};
    if (auto live = node->worker.lock()) add_stats(n.worker, live->stats());
    report.nodes.push_back(std::move(n));
  }
  report.bus = broker.stats();
  report.streams = streams.stats();
  report.last_events = world.trace().recent();
  report.last_log_lines = world.log_book().recent;
  for (const auto& record : report.last_events) {
    report.last_event_nodes.push_back(world.node_name(record.node));
  }
  return report;
}

namespace {

std::string u(std::uint64_t v) { return std::to_string(v); }

void echo_table(std::string& out, const RunReport& r) {
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %-12s %6s %7s %7s %6s %7s %7s %7s %6s %6s %6s\n", "node",
                "role", "starts", "crashes", "streams", "stale", "sent", "echoed", "req-ok",
                "req-to", "req-nr", "annc");
  out += line;
  for (const auto& n : r.nodes) {
    if (n.role != "echo_server" && n.role != "echo_client") continue;
    const auto& s = n.stats;
    std::snprintf(line, sizeof line, "%-12s %-12s %6u %7u %7s %6s %7s %7s %7s %6s %6s %6s\n",
                  n.name.c_str(), n.role.c_str(), n.starts, n.crashes, u(s.connections).c_str(),
                  u(s.stale_streams).c_str(), u(s.frames_sent).c_str(), u(s.frames_echoed).c_str(),
                  u(n.role == "echo_server" ? s.jobs_done : s.requests_ok).c_str(),
                  u(s.requests_timeout).c_str(), u(s.requests_no_responders).c_str(),
                  u(s.announcements).c_str());
    out += line;
  }
  out +=
      "(streams: opened or accepted; stale: closed for silence; req-ok: replies received, or "
      "answered by a server; req-to: timeouts; req-nr: no responders; annc: announcements "
      "published, or heard by a client)\n";
}

void engine_table(std::string& out, const RunReport& r) {
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %-14s %6s %7s %7s %9s %5s %10s %6s %7s %6s %6s %7s\n",
                "node", "role", "starts", "crashes", "claimed", "decisions", "dropped",
                "activities", "failed", "ignored", "timers", "reaped", "db-errs");
  out += line;
  for (const auto& n : r.nodes) {
    if (n.role == "engine_worker") {
      const auto& w = n.worker;
      std::snprintf(line, sizeof line, "%-12s %-14s %6u %7u %7s %9s %5s %10s %6s %7s %6s %6s %7s\n",
                    n.name.c_str(), n.role.c_str(), n.starts, n.crashes, u(w.claimed).c_str(),
                    u(w.decisions).c_str(), u(w.dropped_decisions).c_str(),
                    u(w.activities_run).c_str(), u(w.activities_failed).c_str(),
                    u(w.results_ignored).c_str(), u(w.timers_fired).c_str(), u(w.reaped).c_str(),
                    u(w.store_errors).c_str());
      out += line;
    } else if (n.role == "engine_client") {
      std::snprintf(line, sizeof line, "%-12s %-14s %6u %7u  started %zu runs, %s start retries\n",
                    n.name.c_str(), n.role.c_str(), n.starts, n.crashes,
                    n.engine_client.started.size(), u(n.engine_client.start_retries).c_str());
      out += line;
    }
  }
  out +=
      "(dropped: decisions whose lease was lost or whose run had ended; ignored: results that lost "
      "to "
      "an earlier one; reaped: expired leases returned to the queue)\n";
  const auto& e = r.engine;
  const auto& s = r.store;
  std::snprintf(line, sizeof line,
                "runs: %lld (%lld completed, %lld failed, %lld cancelled, %lld running); %lld "
                "tasks open\n",
                static_cast<long long>(e.runs), static_cast<long long>(e.completed),
                static_cast<long long>(e.failed), static_cast<long long>(e.cancelled),
                static_cast<long long>(e.running), static_cast<long long>(e.tasks_open));
  out += line;
  out += "store: " + u(s.transactions) + " transactions, " + u(s.committed) + " committed, " +
         u(s.rolled_back) + " rolled back, " + u(s.failed_before_commit) +
         " failed before commit, " + u(s.outcome_unknown) + " outcome unknown, " + u(s.slow) +
         " slow, " + u(s.refused_in_outage) + " refused in outages, " + u(s.abandoned) +
         " abandoned by a crashed caller\n";
}

void tool_table(std::string& out, const RunReport& r) {
  const auto& t = r.tools;
  char line[160];
  for (const auto& n : r.nodes) {
    if (n.role != "gateway" && n.role != "daemon" && n.role != "tool_client") continue;
    if (n.crashes == 0 && n.starts <= 1) continue;  // only the eventful ones; 1,000 daemons scroll
    std::snprintf(line, sizeof line, "%-14s %-12s %6u starts %6u crashes\n", n.name.c_str(),
                  n.role.c_str(), n.starts, n.crashes);
    out += line;
  }
  out += "tool calls: " + u(t.calls) + " (" + u(t.answered_ok) + " ok, " + u(t.answered_error) +
         " answered with an error, " + u(t.failed) + " failed, of which " + u(t.unroutable) +
         " found no daemon); " + u(t.executions) +
         " executions; " + u(t.lost) + " reported lost\n";
  out += "daemons: " + u(t.registrations) + " registrations, " + u(t.auth_recoveries) +
         " authentication recoveries, " + u(t.status_changes) +
         " status changes; gateways: " + u(t.forwarded) + " requests forwarded, " + u(t.parked) +
         " parked in the store, " + u(t.stale_registrations) + " stale registrations refused, " +
         u(t.ownership_lost) + " streams let go to a later owner, " + u(t.leases_expired) +
         " leases expired\n";
  const auto& s = r.store;
  out += "store: " + u(s.transactions) + " transactions, " + u(s.failed_before_commit) +
         " failed before commit, " + u(s.outcome_unknown) + " outcome unknown, " +
         u(s.refused_in_outage) + " refused in outages, " + u(s.abandoned) +
         " abandoned by a crashed caller\n";
}

}  // namespace

std::string format_report(const RunReport& r) {
  std::string out;
  char line[256];
  out += "scenario " + r.scenario_name + " (" + r.scenario_file + "), seed " +
         std::to_string(r.seed) + ", " + format_duration(r.simulated) + " simulated\n";
  out += "faults: " + r.fault_mix + "\n\n";
  const bool echo = std::any_of(r.nodes.begin(), r.nodes.end(),
                                [](const NodeReport& n) { return n.role.rfind("echo_", 0) == 0; });
  if (echo) echo_table(out, r);
  if (r.has_engine) {
    if (echo) out += "\n";
    engine_table(out, r);
  }
  if (r.has_tool_path) tool_table(out, r);
  if (r.has_chat) {
    out += "chat: " + u(r.chat.messages) + " messages sent, " + u(r.chat.answered) + " answered, " +
           u(r.chat.updates_seen) + " updates streamed, " + u(r.chat.api_switches) +
           " switches to another api\n";
  }
  out += "bus: " + u(r.bus.published) + " published, " + u(r.bus.delivered) + " delivered, " +
         u(r.bus.dropped) + " dropped, " + u(r.bus.partitioned) + " lost to partitions, " +
         u(r.bus.duplicated) + " duplicated, " + u(r.bus.delayed) + " delayed, " +
         u(r.bus.reordered) + " reordered, " + u(r.bus.no_responders) + " no-responders\n";
  if (echo || r.has_tool_path) {
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
  out += "trace: " + std::to_string(r.trace_events) + " events, sha256 " + r.trace_hash + "\n";
  if (!r.passed()) out += "reproduce: " + r.reproduce_command() + "\n";
  return out;
}

}  // namespace reliant::sim
