// The engine workload as the runner sees it (see engine_workload.h).
#include "sim/workload/engine_workload.h"

#include <cstdio>

#include "sim/runner.h"

namespace reliant::sim {

EngineWorkload::EngineWorkload(const Scenario& scenario, SimDatabase& database, Checker& checker,
                               const Swarm& swarm)
    : scenario_(scenario), database_(database), checker_(checker), swarm_(swarm) {}

ComponentFactory EngineWorkload::factory(const NodeGroup& group, const std::string& name) {
  Node& node = nodes_[name];
  node.role = group.role();
  Node* n = &node;
  if (group.is<EngineWorkerSettings>()) {
    const EngineWorkerSettings settings = group.as<EngineWorkerSettings>();
    const EngineRegistries* registries = &registries_;
    return [n, name, settings, registries, swarm = swarm_](Env& env) -> std::shared_ptr<void> {
      auto worker =
          std::make_shared<SimWorker>(env, name, settings, swarm, *registries, n->worker_total);
      n->worker = worker;
      return worker;
    };
  }
  const EngineClientConfig config = group.as<EngineClientConfig>();
  node.runs_expected = config.runs;
  clients_.push_back(name);
  return [n, name, config](Env& env) -> std::shared_ptr<void> {
    return std::make_shared<EngineClient>(env, name, config, n->client);
  };
}

void EngineWorkload::finish(Instant end) {
  std::vector<ClientExpectation> clients;
  for (const std::string& name : clients_) {
    const Node& node = nodes_.at(name);
    clients.push_back(ClientExpectation{name, &node.client, node.runs_expected});
  }
  summary_ = check_engine(database_.database(), end, scenario_.invariants, clients, checker_);
}

void EngineWorkload::summarize(RunReport& report) const {
  report.engine = summary_;
  const auto u = [](std::uint64_t v) { return std::to_string(v); };
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-12s %-14s %6s %7s %7s %9s %5s %10s %6s %7s %6s %6s %7s\n",
                "node", "role", "starts", "crashes", "claimed", "decisions", "dropped",
                "activities", "failed", "ignored", "timers", "reaped", "db-errs");
  out += line;
  for (const auto& n : report.nodes) {
    const auto it = nodes_.find(n.name);
    if (it == nodes_.end()) continue;
    const Node& node = it->second;
    if (node.role == "engine_worker") {
      engine::WorkerStats w = node.worker_total;
      if (auto live = node.worker.lock()) add_stats(w, live->stats());
      std::snprintf(line, sizeof line, "%-12s %-14s %6u %7u %7s %9s %5s %10s %6s %7s %6s %6s %7s\n",
                    n.name.c_str(), n.role.c_str(), n.starts, n.crashes, u(w.claimed).c_str(),
                    u(w.decisions).c_str(), u(w.dropped_decisions).c_str(),
                    u(w.activities_run).c_str(), u(w.activities_failed).c_str(),
                    u(w.results_ignored).c_str(), u(w.timers_fired).c_str(), u(w.reaped).c_str(),
                    u(w.store_errors).c_str());
    } else {
      std::snprintf(line, sizeof line, "%-12s %-14s %6u %7u  started %zu runs, %s start retries\n",
                    n.name.c_str(), n.role.c_str(), n.starts, n.crashes, node.client.started.size(),
                    u(node.client.start_retries).c_str());
    }
    out += line;
  }
  out +=
      "(dropped: decisions whose lease was lost or whose run had ended; ignored: results that lost "
      "to an earlier one; reaped: expired leases returned to the queue)\n";
  const EngineSummary& e = summary_;
  const StoreStats& s = report.store;
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
  report.sections.push_back(std::move(out));
}

}  // namespace reliant::sim
