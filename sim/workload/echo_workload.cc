// The echo workload as the runner sees it (see echo_workload.h).
#include "sim/workload/echo_workload.h"

#include <cstdio>

#include "sim/runner.h"

namespace reliant::sim {

EchoWorkload::EchoWorkload(const Scenario& scenario, Checker& checker)
    : scenario_(scenario), checker_(checker) {
  for (const auto& group : scenario.topology) {
    if (!group.is<EchoServerRole>()) continue;
    const std::string port = std::to_string(group.as<EchoServerRole>().port);
    for (int i = 1; i <= group.count; ++i) {
      servers_.push_back(group.name + "-" + std::to_string(i) + ":" + port);
    }
  }
}

ComponentFactory EchoWorkload::factory(const NodeGroup& group, const std::string& name) {
  Node& node = nodes_[name];
  node.role = group.role();
  EchoStats* stats = &node.stats;
  if (group.is<EchoServerRole>()) {
    const std::string address = name + ":" + std::to_string(group.as<EchoServerRole>().port);
    return [stats, name, address](Env& env) -> std::shared_ptr<void> {
      return std::make_shared<EchoServer>(env, EchoServerConfig{name, address}, *stats);
    };
  }
  clients_.push_back(name);
  EchoClientConfig config = group.as<EchoClientConfig>();
  config.servers = servers_;
  Checker* checker = &checker_;
  return [stats, name, config, checker](Env& env) -> std::shared_ptr<void> {
    return std::make_shared<EchoClient>(env, name, config, *stats, *checker);
  };
}

void EchoWorkload::checkpoint(Instant now) {
  checkpoint_ = now;
  for (auto& [name, node] : nodes_) node.at_checkpoint = node.stats;
}

void EchoWorkload::finish(Instant end) {
  if (!scenario_.checks("liveness")) return;
  const std::string window = format_duration(end - checkpoint_);
  const std::string healed = format_duration(scenario_.heal_at);
  for (const std::string& name : clients_) {
    const Node& node = nodes_.at(name);
    if (node.stats.frames_echoed <= node.at_checkpoint.frames_echoed) {
      checker_.violation(end, "liveness",
                         name + " received no stream echo in the " + window +
                             " before the end, although every fault was healed at " + healed);
    }
    if (node.stats.requests_ok <= node.at_checkpoint.requests_ok) {
      checker_.violation(end, "liveness",
                         name + " got no bus reply in the " + window +
                             " before the end, although every fault was healed at " + healed);
    }
  }
}

void EchoWorkload::summarize(RunReport& report) const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %-12s %6s %7s %7s %6s %7s %7s %7s %6s %6s %6s\n", "node",
                "role", "starts", "crashes", "streams", "stale", "sent", "echoed", "req-ok",
                "req-to", "req-nr", "annc");
  out += line;
  const auto u = [](std::uint64_t v) { return std::to_string(v); };
  for (const auto& n : report.nodes) {
    const auto it = nodes_.find(n.name);
    if (it == nodes_.end()) continue;
    const EchoStats& s = it->second.stats;
    const bool server = it->second.role == "echo_server";
    std::snprintf(line, sizeof line, "%-12s %-12s %6u %7u %7s %6s %7s %7s %7s %6s %6s %6s\n",
                  n.name.c_str(), n.role.c_str(), n.starts, n.crashes, u(s.connections).c_str(),
                  u(s.stale_streams).c_str(), u(s.frames_sent).c_str(), u(s.frames_echoed).c_str(),
                  u(server ? s.jobs_done : s.requests_ok).c_str(), u(s.requests_timeout).c_str(),
                  u(s.requests_no_responders).c_str(), u(s.announcements).c_str());
    out += line;
  }
  out +=
      "(streams: opened or accepted; stale: closed for silence; req-ok: replies received, or "
      "answered by a server; req-to: timeouts; req-nr: no responders; annc: announcements "
      "published, or heard by a client)\n";
  report.sections.push_back(std::move(out));
}

}  // namespace reliant::sim
