// Runner: builds a world from a scenario and a seed, runs it with its faults, heals, checks
// the invariants and reports — the engine behind `reliant-sim run` and `sweep`.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "sim/checker.h"
#include "sim/coverage.h"
#include "sim/fault_mix.h"
#include "sim/scenario.h"
#include "sim/sim_bus.h"
#include "sim/sim_host.h"
#include "sim/sim_llm.h"
#include "sim/sim_store.h"
#include "sim/sim_transport.h"
#include "sim/trace.h"
#include "sim/workload/engine.h"

namespace reliant::sim {

struct NodeReport {
  std::string name;
  std::string role;
  std::uint32_t starts = 0;
  std::uint32_t crashes = 0;
  bool running = false;
};

struct RunReport {
  std::string scenario_file;
  std::string scenario_name;
  std::uint64_t seed = 0;
  std::string fault_mix;
  std::vector<Violation> violations;
  std::string trace_hash;
  std::uint64_t trace_events = 0;
  Duration simulated{};
  std::vector<NodeReport> nodes;
  BusStats bus;
  StreamStats streams;
  bool has_database = false;
  StoreStats store;
  LlmStats llm;
  FaultMix drawn_faults;  // fault_mix, as data (sim/shrink.h turns it into a plan)
  HostFaultStats host;
  EngineSummary engine;  // filled by the engine workload, if the run has one
  Coverage coverage;     // faults fired, BUGGIFY sites fired, `sometimes` markers reached
  std::string build;     // which binary ran it (reliant-sim sets it), for the repro line
  // Each workload's part of the summary, in the order the workloads report.
  std::vector<std::string> sections;
  std::deque<TraceRecord> last_events;
  std::deque<std::string> last_log_lines;
  std::vector<std::string> last_event_nodes;  // node names for last_events

  bool passed() const { return violations.empty(); }
  // "reliant-sim run scenarios/x.yaml --seed 7"
  std::string reproduce_command() const;
};

struct RunHooks {
  // Hears the drawn fault mix before anything runs: a sweep that runs each seed in a child
  // process keeps it, so that a seed that crashes still says what it was up against.
  std::function<void(const std::string&)> on_fault_mix;
  // Hears every line the simulated processes log, as it is written.
  std::function<void(const std::string&)> on_log_line;
  // Hears every trace event with the name of its node, as it happens.
  std::function<void(const TraceRecord&, const std::string&)> on_trace;
};

RunReport run_scenario(const Scenario& scenario, std::uint64_t seed, const RunHooks& hooks = {});

// The human-readable summary: fault mix, a table per node, bus and stream totals, invariants,
// trace hash, and on failure the events leading up to it and the line that reproduces it.
std::string format_report(const RunReport& report);

}  // namespace reliant::sim
