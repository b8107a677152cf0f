// Shrinking a failing seed (shrink.h): write its faults down, then take away what the failure
// does not need.
#include "sim/shrink.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include <yaml-cpp/yaml.h>

#include "sim/fault_mix.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "sim/scripted_faults.h"

namespace reliant::sim {
namespace {

std::string exact(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  return text;
}

// Exact, in the largest unit that divides it: "8s", "2500ms", "7037399537ns".
std::string nanoseconds(Duration d) {
  const std::int64_t ns = d.count();
  const std::pair<std::int64_t, const char*> units[] = {
      {1'000'000'000, "s"}, {1'000'000, "ms"}, {1'000, "us"}};
  for (const auto& [size, unit] : units) {
    if (ns != 0 && ns % size == 0) return std::to_string(ns / size) + unit;
  }
  return std::to_string(ns) + "ns";
}

YAML::Node fixed_range(const std::string& value) {
  YAML::Node range(YAML::NodeType::Sequence);
  range.SetStyle(YAML::EmitterStyle::Flow);
  range.push_back(value);
  range.push_back(value);
  return range;
}

// The node `doc.faults.section[key]` for writing (`section` empty: faults itself).
YAML::Node fault_field(YAML::Node& doc, const std::string& section, const std::string& key) {
  YAML::Node faults = doc["faults"];
  if (section.empty()) return faults[key];
  YAML::Node part = faults[section];
  return part[key];
}

bool has_fault_field(const YAML::Node& doc, const std::string& section, const std::string& key) {
  const YAML::Node faults = doc["faults"];
  if (!faults) return false;
  if (section.empty()) return static_cast<bool>(faults[key]);
  return faults[section] && faults[section][key];
}

struct RateField {
  std::string section, key;
  double value;
};

std::vector<RateField> rates_of(const FaultMix& mix) {
  return {{"bus", "drop", mix.bus.drop},
          {"bus", "duplicate", mix.bus.duplicate},
          {"bus", "delay", mix.bus.delay},
          {"bus", "reorder", mix.bus.reorder},
          {"bus", "garbage", mix.bus.garbage},
          {"streams", "garbage", mix.streams.garbage},
          {"streams", "truncated", mix.streams.truncated},
          {"streams", "unknown", mix.streams.unknown},
          {"store", "fail_before_commit", mix.store.fail_before_commit},
          {"store", "fail_after_commit", mix.store.fail_after_commit},
          {"store", "slow", mix.store.slow},
          {"llm", "error", mix.llm.error},
          {"llm", "slow", mix.llm.slow},
          {"llm", "malformed", mix.llm.malformed},
          {"host", "hang", mix.host.hang},
          {"host", "disk_full", mix.host.disk_full}};
}

YAML::Node plan_entry(const ScriptedFault& fault) {
  const ScriptedFaultRow& row = scripted_fault(fault.kind);
  const std::string key(row.key);
  YAML::Node entry;
  entry["at"] = nanoseconds(fault.at);
  switch (row.names) {
    case ScriptedFaultRow::Names::nothing:
      entry[key] = true;
      break;
    case ScriptedFaultRow::Names::node:
    case ScriptedFaultRow::Names::daemon:
    case ScriptedFaultRow::Names::gateway:
      entry[key] = fault.node;
      break;
    case ScriptedFaultRow::Names::two_nodes: {
      YAML::Node pair(YAML::NodeType::Sequence);
      pair.SetStyle(YAML::EmitterStyle::Flow);
      pair.push_back(fault.node);
      pair.push_back(fault.other);
      entry[key] = pair;
      entry["one_way"] = fault.one_way;
      break;
    }
  }
  if (row.length == ScriptedFaultRow::Length::restart) {
    entry["restart_after"] = nanoseconds(fault.length);
  } else if (row.length == ScriptedFaultRow::Length::required) {
    entry["length"] = nanoseconds(fault.length);
  }
  return entry;
}

// The scenario with the seed's drawn faults written down: every rate fixed at what it drew,
// every count zero, every event (drawn or scripted) in the plan. Clock skews and drifts are
// drawn before any count, so they come out the same.
YAML::Node written_down(const YAML::Node& original, const FaultMix& mix) {
  YAML::Node doc = YAML::Clone(original);
  for (const RateField& rate : rates_of(mix)) {
    if (rate.value > 0 || has_fault_field(doc, rate.section, rate.key)) {
      fault_field(doc, rate.section, rate.key) = fixed_range(exact(rate.value));
    }
  }
  const std::pair<const char*, const char*> counts[] = {
      {"", "crashes"},         {"", "pauses"},       {"", "partitions"},      {"", "stream_resets"},
      {"", "half_open"},       {"store", "outages"}, {"store", "partitions"}, {"clock", "jumps"},
      {"clock", "steps_back"}, {"bus", "outages"}};
  for (const auto& [section, key] : counts) {
    if (has_fault_field(doc, section, key)) fault_field(doc, section, key) = fixed_range("0");
  }
  YAML::Node plan(YAML::NodeType::Sequence);
  for (const ScriptedFault& fault : mix.events) plan.push_back(plan_entry(fault));
  YAML::Node faults = doc["faults"];
  faults["plan"] = plan;
  return doc;
}

bool names_node(const YAML::Node& entry, const std::string& node) {
  for (const auto& row : scripted_faults()) {
    const YAML::Node named = entry[std::string(row.key)];
    if (!named || row.names == ScriptedFaultRow::Names::nothing) continue;
    if (row.names != ScriptedFaultRow::Names::two_nodes) {
      if (named.as<std::string>() == node) return true;
      continue;
    }
    for (const auto& side : named) {
      if (side.as<std::string>() == node) return true;
    }
  }
  return false;
}

// Drops the plan entries that name `node`.
void drop_events_of(YAML::Node& doc, const std::string& node) {
  YAML::Node faults = doc["faults"];
  if (!faults || !faults["plan"]) return;
  YAML::Node kept(YAML::NodeType::Sequence);
  for (const auto& entry : faults["plan"]) {
    if (!names_node(entry, node)) kept.push_back(entry);
  }
  faults["plan"] = kept;
}

bool is_client(const std::string& role) { return role.size() > 7 && role.ends_with("_client"); }

class Shrinker {
 public:
  Shrinker(std::string file, std::uint64_t seed, const ShrinkOptions& options)
      : file_(std::move(file)), seed_(seed), options_(options) {}

  // Whether `doc` is a valid scenario whose run under the seed breaks the target invariant.
  bool fails(const YAML::Node& doc) {
    if (runs_ >= options_.runs_max) return false;
    auto scenario = parse_scenario(YAML::Dump(doc), file_);
    if (!scenario) return false;
    ++runs_;
    const RunReport report = run_scenario(*scenario, seed_);
    // The same failure, and no new kind of one: a run cut too short to finish its work breaks
    // liveness invariants, which would make the shrunk scenario fail on a fixed build too.
    bool target = false;
    for (const Violation& v : report.violations) {
      if (failing_.count(v.invariant) == 0) return false;
      target |= v.invariant == invariant_;
    }
    return target;
  }

  // Tries `candidate`; keeps it when it still fails.
  bool attempt(YAML::Node candidate, const std::string& step) {
    if (!fails(candidate)) return false;
    best_ = std::move(candidate);
    steps_.push_back(step);
    if (options_.progress) {
      options_.progress("  " + step + " (run " + std::to_string(runs_) + ")");
    }
    return true;
  }

  bool remove_events() {
    bool progress = false;
    for (std::size_t i = best_["faults"]["plan"].size(); i-- > 0;) {
      YAML::Node candidate = YAML::Clone(best_);
      YAML::Node kept(YAML::NodeType::Sequence);
      const YAML::Node plan = candidate["faults"]["plan"];
      for (std::size_t j = 0; j < plan.size(); ++j) {
        if (j != i) kept.push_back(plan[j]);
      }
      const std::string what = YAML::Dump(YAML::Node(plan[i]));
      std::string flat;
      for (char c : what) flat += c == '\n' ? ' ' : c;
      candidate["faults"]["plan"] = kept;
      progress |= attempt(candidate, "removed the fault {" + flat + "}");
    }
    return progress;
  }

  bool zero_rates() {
    bool progress = false;
    for (const RateField& rate : rates_of(mix_)) {
      if (!has_fault_field(best_, rate.section, rate.key)) continue;
      const YAML::Node current = best_["faults"][rate.section][rate.key];
      if (current[1].as<std::string>() == "0") continue;
      YAML::Node candidate = YAML::Clone(best_);
      fault_field(candidate, rate.section, rate.key) = fixed_range("0");
      progress |= attempt(candidate, "no " + rate.section + " " + rate.key + " faults");
    }
    return progress;
  }

  bool remove_nodes() {
    bool progress = false;
    YAML::Node topology = best_["topology"];
    for (std::size_t g = topology.size(); g-- > 0;) {
      const YAML::Node group = best_["topology"][g];
      const std::string name = group["name"].as<std::string>();
      const int count = group["count"] ? group["count"].as<int>() : 1;
      if (count > 1) {
        YAML::Node candidate = YAML::Clone(best_);
        candidate["topology"][g]["count"] = count - 1;
        drop_events_of(candidate, name + "-" + std::to_string(count));
        progress |=
            attempt(candidate, "one " + name + " fewer (" + std::to_string(count - 1) + ")");
      } else if (is_client(group["role"].as<std::string>()) && topology.size() > 1) {
        YAML::Node candidate = YAML::Clone(best_);
        YAML::Node kept(YAML::NodeType::Sequence);
        for (std::size_t j = 0; j < candidate["topology"].size(); ++j) {
          if (j != g) kept.push_back(candidate["topology"][j]);
        }
        candidate["topology"] = kept;
        drop_events_of(candidate, name + "-1");
        progress |= attempt(candidate, "no " + name);
      }
    }
    return progress;
  }

  // A shorter run: the faults end sooner (heal_at right after the last one), then a shorter
  // liveness phase.
  bool shorten() {
    auto scenario = parse_scenario(YAML::Dump(best_), file_);
    if (!scenario) return false;
    Duration last_fault = Duration::zero();
    for (const auto& fault : scenario->plan) {
      last_fault = std::max(last_fault, fault.at + fault.length);
    }
    bool progress = false;
    const Duration liveness = scenario->duration - scenario->heal_at;
    const Duration heal = std::max<Duration>(last_fault + seconds(1), seconds(1));
    if (heal < scenario->heal_at) {
      YAML::Node candidate = YAML::Clone(best_);
      candidate["heal_at"] = nanoseconds(heal);
      candidate["duration"] = nanoseconds(heal + liveness);
      progress |= attempt(candidate, "faults heal at " + format_duration(heal));
    }
    if (liveness >= seconds(20)) {
      auto now = parse_scenario(YAML::Dump(best_), file_);
      if (now) {
        YAML::Node candidate = YAML::Clone(best_);
        candidate["duration"] = nanoseconds(now->heal_at + liveness / 2);
        progress |= attempt(candidate, "a liveness phase of " + format_duration(liveness / 2));
      }
    }
    return progress;
  }

  Result<ShrinkResult> run(const std::string& yaml) {
    // Parsed first: the scenario's reader checks the YAML's budget before anything walks it.
    auto scenario = parse_scenario(yaml, file_);
    if (!scenario) return fail(scenario.error());
    YAML::Node original;
    try {
      original = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
      return fail(ErrorCode::invalid_argument, file_ + ": invalid YAML: " + e.what());
    }
    ++runs_;
    const RunReport first = run_scenario(*scenario, seed_);
    if (first.violations.empty()) {
      return fail(ErrorCode::failed_precondition, "seed " + std::to_string(seed_) +
                                                      " holds every invariant of " + file_ +
                                                      ": nothing to shrink");
    }
    invariant_ = first.violations.front().invariant;
    for (const Violation& v : first.violations) failing_.insert(v.invariant);
    mix_ = first.drawn_faults;
    if (options_.progress) {
      options_.progress("seed " + std::to_string(seed_) + " breaks " + invariant_ + ": " +
                        first.violations.front().detail);
    }
    best_ = written_down(original, mix_);
    if (!fails(best_)) {
      return fail(ErrorCode::failed_precondition,
                  "with its faults written down as a plan, seed " + std::to_string(seed_) +
                      " no longer breaks " + invariant_ + ": shrinking needs a run that does");
    }
    steps_.push_back("wrote the drawn faults down (" +
                     std::to_string(best_["faults"]["plan"].size()) + " in the plan)");
    for (bool progress = true; progress && runs_ < options_.runs_max;) {
      progress = remove_events();
      progress |= zero_rates();
      progress |= remove_nodes();
      progress |= shorten();
    }
    ShrinkResult result;
    result.invariant = invariant_;
    result.yaml = YAML::Dump(best_) + "\n";
    result.steps = steps_;
    result.runs = runs_;
    result.exhausted = runs_ >= options_.runs_max;
    return result;
  }

 private:
  std::string file_;
  std::uint64_t seed_;
  ShrinkOptions options_;
  std::string invariant_;
  std::set<std::string> failing_;  // every invariant the seed breaks
  FaultMix mix_;
  YAML::Node best_;
  std::vector<std::string> steps_;
  int runs_ = 0;
};

}  // namespace

Result<ShrinkResult> shrink_scenario(const std::string& yaml, const std::string& file,
                                     std::uint64_t seed, const ShrinkOptions& options) {
  Shrinker shrinker(file, seed, options);
  return shrinker.run(yaml);
}

}  // namespace reliant::sim
