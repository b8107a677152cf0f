// `reliant-sim`: run a scenario under one seed, or sweep many seeds. This file is the
// simulator's only edge with the outside world (it reads the scenario file and the wall clock
// for progress), so the I/O lint exempts it.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "sim/allocator.h"
#include "sim/runner.h"
#include "sim/scenario.h"

namespace {

using reliant::Result;
using reliant::sim::Scenario;

constexpr int kExitFailed = 1;  // an invariant failed
constexpr int kExitUsage = 2;   // bad arguments or scenario file

Result<Scenario> load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return reliant::fail(reliant::ErrorCode::not_found, path + ": cannot open the scenario file");
  std::ostringstream text;
  text << in.rdbuf();
  return reliant::sim::parse_scenario(text.str(), path);
}

// "3..40" → {3, 40}
bool parse_seed_range(const std::string& text, std::uint64_t& first, std::uint64_t& last) {
  const auto dots = text.find("..");
  if (dots == std::string::npos) return false;
  try {
    std::size_t used = 0;
    first = std::stoull(text.substr(0, dots), &used);
    if (used != dots) return false;
    const std::string rest = text.substr(dots + 2);
    last = std::stoull(rest, &used);
    if (used != rest.size()) return false;
  } catch (const std::exception&) {
    return false;
  }
  return first <= last;
}

int run(const std::string& path, std::uint64_t seed) {
  auto scenario = load(path);
  if (!scenario) {
    std::fprintf(stderr, "error: %s\n", scenario.error().message.c_str());
    return kExitUsage;
  }
  const auto report = reliant::sim::run_scenario(*scenario, seed);
  std::fputs(reliant::sim::format_report(report).c_str(), stdout);
  return report.passed() ? 0 : kExitFailed;
}

int sweep(const std::string& path, const std::string& seeds) {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  if (!parse_seed_range(seeds, first, last)) {
    std::fprintf(stderr, "error: --seeds '%s': expected A..B with A <= B, e.g. 1..100\n",
                 seeds.c_str());
    return kExitUsage;
  }
  auto scenario = load(path);
  if (!scenario) {
    std::fprintf(stderr, "error: %s\n", scenario.error().message.c_str());
    return kExitUsage;
  }
  const auto started = std::chrono::steady_clock::now();
  const std::uint64_t total = last - first + 1;
  std::uint64_t passed = 0;
  std::uint64_t events = 0;
  std::vector<reliant::sim::RunReport> failures;
  for (std::uint64_t seed = first;; ++seed) {
    auto report = reliant::sim::run_scenario(*scenario, seed);
    events += report.trace_events;
    const std::uint64_t done = seed - first + 1;
    std::printf("[%llu/%llu] seed %llu %s trace %s | %s\n", static_cast<unsigned long long>(done),
                static_cast<unsigned long long>(total), static_cast<unsigned long long>(seed),
                report.passed() ? "ok  " : "FAIL", report.trace_hash.c_str(),
                report.fault_mix.c_str());
    std::fflush(stdout);
    if (report.passed()) {
      ++passed;
    } else {
      failures.push_back(std::move(report));
    }
    if (seed == last) break;
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("\nsweep of %s, seeds %llu..%llu\n", scenario->name.c_str(),
              static_cast<unsigned long long>(first), static_cast<unsigned long long>(last));
  std::printf(
      "  %-10s %llu\n  %-10s %llu\n  %-10s %zu\n  %-10s %llu (%.0f per second of wall time)\n",
      "seeds", static_cast<unsigned long long>(total), "passed",
      static_cast<unsigned long long>(passed), "failed", failures.size(), "events",
      static_cast<unsigned long long>(events),
      wall_s > 0 ? static_cast<double>(events) / wall_s : 0.0);
  for (const auto& f : failures) {
    std::printf("  FAILED seed %llu: %s: %s\n    reproduce: %s\n",
                static_cast<unsigned long long>(f.seed), f.violations.front().invariant.c_str(),
                f.violations.front().detail.c_str(), f.reproduce_command().c_str());
  }
  return failures.empty() ? 0 : kExitFailed;
}

}  // namespace

int main(int argc, char** argv) {
  reliant::sim::keep_heap_mapped();
  CLI::App app{"reliant-sim: deterministic simulation of Reliant topologies under faults"};
  app.require_subcommand(1);

  std::string run_path;
  std::uint64_t seed = 1;
  auto* run_cmd = app.add_subcommand("run", "Run a scenario under one seed and print its summary");
  run_cmd->add_option("scenario", run_path, "Scenario YAML file")->required();
  run_cmd->add_option("--seed", seed, "Seed for every random choice in the run");

  std::string sweep_path;
  std::string seeds = "1..20";
  auto* sweep_cmd =
      app.add_subcommand("sweep", "Run a scenario under a range of seeds and summarise");
  sweep_cmd->add_option("scenario", sweep_path, "Scenario YAML file")->required();
  sweep_cmd->add_option("--seeds", seeds, "Seed range A..B (inclusive)");

  std::string check_path;
  auto* check_cmd = app.add_subcommand("check", "Validate a scenario file without running it");
  check_cmd->add_option("scenario", check_path, "Scenario YAML file")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : kExitUsage;
  }
  if (*run_cmd) return run(run_path, seed);
  if (*sweep_cmd) return sweep(sweep_path, seeds);
  auto scenario = load(check_path);
  if (!scenario) {
    std::fprintf(stderr, "error: %s\n", scenario.error().message.c_str());
    return kExitUsage;
  }
  std::printf("%s: ok (%zu nodes, %s, %zu scripted faults)\n", check_path.c_str(),
              scenario->node_names().size(), reliant::format_duration(scenario->duration).c_str(),
              scenario->plan.size());
  return 0;
}
