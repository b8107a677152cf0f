// The `faults:` section of a scenario file (scenario_reader.h): the ranges a seed draws its mix
// from, and the scripted plan, read by the rows of scripted_faults.h.
#include <set>

#include "sim/scenario_reader.h"
#include "sim/scripted_faults.h"

namespace reliant::sim::scenario_file {
namespace {

bool is_daemon_node(const Scenario& s, const std::string& node) {
  for (const auto& group : s.topology) {
    if (!group.is<DaemonNodeConfig>()) continue;
    for (int i = 1; i <= group.count; ++i) {
      if (node == group.name + "-" + std::to_string(i)) return true;
    }
  }
  return false;
}

bool is_gateway_node(const Scenario& s, const std::string& node) {
  for (const auto& group : s.topology) {
    if (!group.is<GatewayRole>()) continue;
    for (int i = 1; i <= group.count; ++i) {
      if (node == group.name + "-" + std::to_string(i)) return true;
    }
  }
  return false;
}

// "crash, pause, …": every scripted fault's plan key, for the message that asks for one.
std::string plan_keys(std::string_view last_joiner) {
  std::string out;
  const auto& rows = scripted_faults();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) out += i + 1 == rows.size() ? last_joiner : ", ";
    out += rows[i].key;
  }
  return out;
}

// What one plan entry names, by its row: a node, a daemon's node, or two nodes.
Result<void> read_plan_target(const Reader& r, const YAML::Node& f, const std::string& path,
                              const ScriptedFaultRow& row, const Scenario& s,
                              const std::set<std::string>& nodes, ScriptedFault& fault) {
  const std::string key(row.key);
  auto known_node = [&](const YAML::Node& n, const std::string& p) -> Result<std::string> {
    auto name = r.string(n, p);
    if (!name) return name;
    if (nodes.count(*name) == 0)
      return fail(r.error(n, p, "no node named '" + *name + "' in the topology"));
    return name;
  };
  switch (row.names) {
    case ScriptedFaultRow::Names::nothing:
      return {};
    case ScriptedFaultRow::Names::node:
    case ScriptedFaultRow::Names::daemon:
    case ScriptedFaultRow::Names::gateway: {
      auto n = known_node(f[key], path + "." + key);
      if (!n) return fail(n.error());
      if (row.names == ScriptedFaultRow::Names::daemon && !is_daemon_node(s, *n)) {
        return fail(r.error(f[key], path + "." + key,
                            "'" + *n + "' is not a daemon: only a daemon's token can be revoked"));
      }
      if (row.names == ScriptedFaultRow::Names::gateway && !is_gateway_node(s, *n)) {
        return fail(r.error(f[key], path + "." + key,
                            "'" + *n + "' is not a gateway: only a gateway drains"));
      }
      fault.node = *n;
      return {};
    }
    case ScriptedFaultRow::Names::two_nodes: {
      const auto& p = f[key];
      if (!p.IsSequence() || p.size() != 2) {
        return fail(
            r.error(p, path + "." + key, "expected two node names [a, b], got " + kind_of(p)));
      }
      auto a = known_node(p[0], path + "." + key + "[0]");
      if (!a) return fail(a.error());
      auto b = known_node(p[1], path + "." + key + "[1]");
      if (!b) return fail(b.error());
      if (*a == *b)
        return fail(r.error(p, path + "." + key, "a node cannot be partitioned from itself"));
      fault.node = *a;
      fault.other = *b;
      return {};
    }
  }
  return {};
}

// A plan entry's length (or crash's restart_after, 5 s unless given), by its row.
Result<void> read_plan_length(const Reader& r, const YAML::Node& f, const std::string& path,
                              const ScriptedFaultRow& row, ScriptedFault& fault) {
  if (row.length == ScriptedFaultRow::Length::restart) {
    fault.length = seconds(5);
    if (f["restart_after"]) {
      auto d = r.duration(f["restart_after"], path + ".restart_after");
      if (!d) return fail(d.error());
      fault.length = *d;
    }
  } else if (f["restart_after"]) {
    return fail(r.error(f["restart_after"], path + ".restart_after",
                        "only crash and drain take restart_after"));
  }
  const bool needs_length = row.length == ScriptedFaultRow::Length::required;
  if (f["length"]) {
    if (!needs_length) {
      std::string takers;
      for (const auto& each : scripted_faults()) {
        if (each.length != ScriptedFaultRow::Length::required) continue;
        takers += (takers.empty() ? "" : ", ") + std::string(each.key);
      }
      return fail(r.error(f["length"], path + ".length", "only " + takers + " take a length"));
    }
    auto d = r.duration(f["length"], path + ".length");
    if (!d) return fail(d.error());
    fault.length = *d;
  } else if (needs_length) {
    return fail(r.error(f, path, "missing 'length'"));
  }
  if (row.positive_length && fault.length <= Duration::zero()) {
    return fail(r.error(f["length"], path + ".length",
                        "how far a clock steps must be positive (clock_jump steps forward, "
                        "clock_step_back back)"));
  }
  return {};
}

Result<void> read_plan(const Reader& r, const YAML::Node& node, Scenario& s,
                       const std::set<std::string>& nodes) {
  if (!node.IsSequence())
    return fail(r.error(node, "faults.plan", "expected a list, got " + kind_of(node)));
  std::vector<std::string> allowed = {"at", "restart_after", "length", "one_way"};
  for (const auto& row : scripted_faults()) allowed.emplace_back(row.key);
  for (std::size_t i = 0; i < node.size(); ++i) {
    const auto& f = node[i];
    const std::string path = "faults.plan[" + std::to_string(i) + "]";
    if (auto ok = r.expect_map(f, path, allowed); !ok) return ok;
    ScriptedFault fault;
    fault.line = f.Mark().line + 1;
    if (!f["at"]) return fail(r.error(f, path, "missing 'at'"));
    auto at = r.duration(f["at"], path + ".at");
    if (!at) return fail(at.error());
    fault.at = *at;
    const ScriptedFaultRow* row = nullptr;
    int found = 0;
    for (const auto& each : scripted_faults()) {
      if (!f[std::string(each.key)]) continue;
      ++found;
      row = &each;
    }
    if (found != 1) {
      return fail(r.error(f, path, "needs exactly one of: " + plan_keys(", ")));
    }
    fault.kind = row->kind;
    if (auto ok = read_plan_target(r, f, path, *row, s, nodes, fault); !ok) return ok;
    if (f["one_way"]) {
      if (row->names != ScriptedFaultRow::Names::two_nodes) {
        return fail(r.error(f["one_way"], path + ".one_way", "only partition takes one_way"));
      }
      auto one_way = r.boolean(f["one_way"], path + ".one_way");
      if (!one_way) return fail(one_way.error());
      fault.one_way = *one_way;
    }
    if (auto ok = read_plan_length(r, f, path, *row, fault); !ok) return ok;
    if (fault.at >= s.heal_at) {
      return fail(r.error(f["at"], path + ".at",
                          "is not before heal_at (" + format_duration(s.heal_at) +
                              "): faults must happen before the liveness phase"));
    }
    s.plan.push_back(std::move(fault));
  }
  return {};
}

// Each section of `faults:`: its probabilities, counts and lengths, by key, and keys read on
// their own.
struct Section {
  const char* name;
  std::vector<std::pair<const char*, Range<double>*>> rates;
  std::vector<std::pair<const char*, Range<int>*>> counts;
  std::vector<std::pair<const char*, Range<Duration>*>> lengths;
  std::vector<const char*> others = {};
};

std::vector<Section> sections_of(FaultRanges& f) {
  return {
      {"bus",
       {{"drop", &f.bus_drop},
        {"duplicate", &f.bus_duplicate},
        {"delay", &f.bus_delay},
        {"reorder", &f.bus_reorder},
        {"garbage", &f.bus_garbage}},
       {{"outages", &f.bus_outages}},
       {{"outage_length", &f.bus_outage_length}}},
      {"streams",
       {{"garbage", &f.stream_garbage},
        {"truncated", &f.stream_truncated},
        {"unknown", &f.stream_unknown}},
       {},
       {}},
      {"llm",
       {{"error", &f.llm_error}, {"slow", &f.llm_slow}, {"malformed", &f.llm_malformed}},
       {},
       {{"slow_delay", &f.llm_slow_delay}}},
      {"clock",
       {},
       {{"jumps", &f.clock_jumps}, {"steps_back", &f.clock_steps_back}},
       {{"jump_length", &f.clock_jump_length}, {"step_back_length", &f.clock_step_back_length}},
       {"drift"}},
      {"host", {{"hang", &f.host_hang}, {"disk_full", &f.host_disk_full}}, {}, {}},
      {"store",
       {{"fail_before_commit", &f.store_fail_before_commit},
        {"fail_after_commit", &f.store_fail_after_commit},
        {"slow", &f.store_slow}},
       {{"outages", &f.store_outages}, {"partitions", &f.store_partitions}},
       {{"slow_delay", &f.store_slow_delay},
        {"outage_length", &f.store_outage_length},
        {"partition_length", &f.store_partition_length}}},
  };
}

// Every `[min, max]` of `fields` that `map` has, each read by `read`.
template <class T, class Read>
Result<void> read_ranges(const Reader& r, const YAML::Node& map, const std::string& path,
                         const std::vector<std::pair<const char*, Range<T>*>>& fields, Read read) {
  for (const auto& [key, target] : fields) {
    if (!map[key]) continue;
    auto value = r.range<T>(map[key], path + key, read);
    if (!value) return fail(value.error());
    *target = *value;
  }
  return {};
}

Result<void> read_section(const Reader& r, const YAML::Node& map, const Section& section) {
  const std::string path = std::string("faults.") + section.name;
  std::vector<std::string> keys(section.others.begin(), section.others.end());
  for (const auto& field : section.rates) keys.emplace_back(field.first);
  for (const auto& field : section.counts) keys.emplace_back(field.first);
  for (const auto& field : section.lengths) keys.emplace_back(field.first);
  if (auto ok = r.expect_map(map, path, keys); !ok) return ok;
  auto prob = [&r](const YAML::Node& n, const std::string& p) { return r.probability(n, p); };
  auto dur = [&r](const YAML::Node& n, const std::string& p) { return r.duration(n, p); };
  auto cnt = [&r](const YAML::Node& n, const std::string& p) { return r.count(n, p, 100); };
  if (auto ok = read_ranges(r, map, path + ".", section.rates, prob); !ok) return ok;
  if (auto ok = read_ranges(r, map, path + ".", section.counts, cnt); !ok) return ok;
  return read_ranges(r, map, path + ".", section.lengths, dur);
}

// What `faults.clock` says beyond its ranges: the drift, and that a clock steps forward.
Result<void> read_clock(const Reader& r, const YAML::Node& clock, FaultRanges& f) {
  if (clock["drift"]) {
    auto drift = [&r](const YAML::Node& n, const std::string& p) -> Result<double> {
      auto rate = r.number(n, p);
      if (!rate) return rate;
      if (*rate <= -0.5 || *rate >= 0.5)
        return fail(r.error(n, p, "a drift is seconds gained per second, within (-0.5, 0.5)"));
      return rate;
    };
    auto value = r.range<double>(clock["drift"], "faults.clock.drift", drift);
    if (!value) return fail(value.error());
    f.clock_drift = *value;
  }
  if (clock["jump_length"] && f.clock_jump_length.min <= Duration::zero()) {
    return fail(r.error(clock["jump_length"], "faults.clock.jump_length",
                        "a clock jumps forward: the lengths must be positive"));
  }
  if (clock["step_back_length"] && f.clock_step_back_length.min <= Duration::zero()) {
    return fail(r.error(clock["step_back_length"], "faults.clock.step_back_length",
                        "how far a clock steps back: the lengths must be positive"));
  }
  return {};
}

// The process and link faults, at the top of `faults:`.
Result<void> read_process_faults(const Reader& r, const YAML::Node& node, FaultRanges& f) {
  auto dur = [&r](const YAML::Node& n, const std::string& p) { return r.duration(n, p); };
  auto cnt = [&r](const YAML::Node& n, const std::string& p) { return r.count(n, p, 100); };
  if (auto ok = read_ranges<int>(r, node, "faults.",
                                 {{"crashes", &f.crashes},
                                  {"pauses", &f.pauses},
                                  {"partitions", &f.partitions},
                                  {"stream_resets", &f.stream_resets},
                                  {"half_open", &f.half_open}},
                                 cnt);
      !ok) {
    return ok;
  }
  if (auto ok = read_ranges<Duration>(r, node, "faults.",
                                      {{"restart_after", &f.restart_after},
                                       {"pause_length", &f.pause_length},
                                       {"partition_length", &f.partition_length},
                                       {"clock_offset", &f.clock_offset}},
                                      dur);
      !ok) {
    return ok;
  }
  if (node["one_way_share"]) {
    auto value = r.probability(node["one_way_share"], "faults.one_way_share");
    if (!value) return fail(value.error());
    f.one_way_share = *value;
  }
  return {};
}

}  // namespace

Result<void> read_faults(const Reader& r, const YAML::Node& node, Scenario& s) {
  if (auto ok =
          r.expect_map(node, "faults",
                       {"bus", "store", "crashes", "restart_after", "pauses", "pause_length",
                        "partitions", "partition_length", "one_way_share", "stream_resets",
                        "half_open", "clock_offset", "clock", "streams", "llm", "host", "plan"});
      !ok) {
    return ok;
  }
  for (const Section& section : sections_of(s.faults)) {
    const YAML::Node map = node[section.name];
    if (!map) continue;
    if (auto ok = read_section(r, map, section); !ok) return ok;
  }
  if (const YAML::Node clock = node["clock"]) {
    if (auto ok = read_clock(r, clock, s.faults); !ok) return ok;
  }
  if (auto ok = read_process_faults(r, node, s.faults); !ok) return ok;
  if (node["plan"]) {
    const auto names = s.node_names();
    return read_plan(r, node["plan"], s, std::set<std::string>(names.begin(), names.end()));
  }
  return {};
}

}  // namespace reliant::sim::scenario_file
