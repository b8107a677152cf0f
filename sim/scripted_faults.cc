// The scripted faults' rows (scripted_faults.h): each one's plan key, shape, coverage counter,
// description and effect on the world.
#include "sim/scripted_faults.h"

#include <algorithm>

#include "base/assert.h"
#include "sim/scenario.h"

namespace reliant::sim {
namespace {

using Kind = ScriptedFault::Kind;
using Names = ScriptedFaultRow::Names;
using Length = ScriptedFaultRow::Length;

std::string when(const ScriptedFault& f) { return "@" + format_duration(f.at); }
std::string lasting(const ScriptedFault& f) { return " for " + format_duration(f.length); }

// Runs `end` when the fault's length is over, or at heal_at if that comes first.
template <class End>
void after_length(FaultTargets& t, const ScriptedFault& f, const char* what, End end) {
  t.world.schedule(std::min(t.world.now() + f.length, t.heal), kWorldNode, what, std::move(end));
}

bool crash(FaultTargets& t, const ScriptedFault& f) {
  SimProcess* process = t.processes.at(f.node);
  if (!process->running()) return false;
  t.world.coverage().hit("fault.process.crash");
  process->crash();
  after_length(t, f, "fault.restart", [process] { process->start_unless_held(); });
  return true;
}

bool pause(FaultTargets& t, const ScriptedFault& f) {
  SimProcess* process = t.processes.at(f.node);
  if (process->running() && !process->paused()) t.world.coverage().hit("fault.process.pause");
  process->pause();
  after_length(t, f, "fault.resume", [process] { process->resume(); });
  return true;
}

bool partition(FaultTargets& t, const ScriptedFault& f) {
  const NodeId a = t.processes.at(f.node)->node();
  const NodeId b = t.processes.at(f.other)->node();
  t.world.coverage().hit("fault.net.partition");
  t.network.block(a, b);
  if (!f.one_way) t.network.block(b, a);
  after_length(t, f, "fault.heal_partition", [&network = t.network, a, b] {
    network.unblock(a, b);
    network.unblock(b, a);
  });
  return true;
}

bool store_outage(FaultTargets& t, const ScriptedFault& f) {
  if (t.database == nullptr) return false;
  t.world.coverage().hit("fault.store.outage");
  t.database->faults().outage = true;
  after_length(t, f, "fault.store_back",
               [database = t.database] { database->faults().outage = false; });
  return true;
}

// A clock steps by `sign` × length.
bool step_clock(FaultTargets& t, const ScriptedFault& f, const char* counter, const char* trace,
                int sign) {
  t.world.coverage().hit(counter);
  SimProcess* process = t.processes.at(f.node);
  t.world.trace().record(t.world.now(), process->node(), trace,
                         static_cast<std::uint64_t>(f.length.count()));
  process->clock().step(sign * f.length);
  return true;
}

bool bus_outage(FaultTargets& t, const ScriptedFault& f) {
  t.world.coverage().hit("fault.bus.outage");
  t.network.bus_faults().outage = true;
  after_length(t, f, "fault.bus_back",
               [&network = t.network] { network.bus_faults().outage = false; });
  return true;
}

bool store_partition(FaultTargets& t, const ScriptedFault& f) {
  if (t.database == nullptr) return false;
  const NodeId node = t.processes.at(f.node)->node();
  t.database->faults().cut_off.insert(node);
  after_length(t, f, "fault.store_reachable",
               [database = t.database, node] { database->faults().cut_off.erase(node); });
  return true;
}

// The process starts its drain: the workload that built the gateway asks it (ToolPathWorkload::
// apply), and the drained process exits and is started again `length` later.
bool drain(FaultTargets& t, const ScriptedFault& f) {
  SimProcess* process = t.processes.at(f.node);
  if (!process->running() || process->paused()) return false;
  t.world.coverage().hit("fault.process.drain");
  return true;
}

// One row per Kind, in its order, each complete.
void check(const std::vector<ScriptedFaultRow>& rows) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    RELIANT_ASSERT(static_cast<std::size_t>(rows[i].kind) == i);
    RELIANT_ASSERT(!rows[i].key.empty() && rows[i].counter.starts_with("fault."));
    RELIANT_ASSERT(rows[i].describe != nullptr && rows[i].inject != nullptr);
  }
  RELIANT_ASSERT(rows.size() == static_cast<std::size_t>(Kind::drain) + 1);
}

// The rows of the first kinds, crash to revoke_token.
std::vector<ScriptedFaultRow> first_rows() {
  return {
      {Kind::crash, "crash", Names::node, Length::restart, false, "fault.process.crash", false,
       [](const ScriptedFault& f) {
         return "crash " + f.node + when(f) + " (restart +" + format_duration(f.length) + ")";
       },
       crash},
      {Kind::pause, "pause", Names::node, Length::required, false, "fault.process.pause", false,
       [](const ScriptedFault& f) { return "pause " + f.node + when(f) + lasting(f); }, pause},
      {Kind::partition, "partition", Names::two_nodes, Length::required, false,
       "fault.net.partition", false,
       [](const ScriptedFault& f) {
         return std::string(f.one_way ? "one-way " : "") + "partition " + f.node +
                (f.one_way ? "->" : "<->") + f.other + when(f) + lasting(f);
       },
       partition},
      // The stream faults count where they land (SimStreams' report), not here.
      {Kind::reset_stream, "reset_stream", Names::nothing, Length::none, false,
       "fault.stream.reset", false, [](const ScriptedFault& f) { return "stream reset" + when(f); },
       [](FaultTargets& t, const ScriptedFault&) {
         t.streams.reset_random_link();
         return true;
       }},
      {Kind::half_open_stream, "half_open_stream", Names::nothing, Length::none, false,
       "fault.stream.half_open", false,
       [](const ScriptedFault& f) { return "half-open stream" + when(f); },
       [](FaultTargets& t, const ScriptedFault&) {
         t.streams.break_random_link();
         return true;
       }},
      {Kind::store_outage, "store_outage", Names::nothing, Length::required, false,
       "fault.store.outage", true,
       [](const ScriptedFault& f) { return "store outage" + when(f) + lasting(f); }, store_outage},
      // A workload's (the tool path's revokes the daemon's token): counted only here.
      {Kind::revoke_token, "revoke_token", Names::daemon, Length::none, false,
       "fault.auth.revoke_token", false,
       [](const ScriptedFault& f) { return "revoke token of " + f.node + when(f); },
       [](FaultTargets& t, const ScriptedFault&) {
         t.world.coverage().hit("fault.auth.revoke_token");
         return true;
       }},
  };
}

// The rows of the later kinds, clock_jump to drain.
std::vector<ScriptedFaultRow> later_rows() {
  return {
      {Kind::clock_jump, "clock_jump", Names::node, Length::required, true, "fault.clock.jump",
       false,
       [](const ScriptedFault& f) {
         return "clock of " + f.node + " jumps +" + format_duration(f.length) + when(f);
       },
       [](FaultTargets& t, const ScriptedFault& f) {
         return step_clock(t, f, "fault.clock.jump", "clock.jump", 1);
       }},
      {Kind::bus_outage, "bus_outage", Names::nothing, Length::required, false, "fault.bus.outage",
       false, [](const ScriptedFault& f) { return "bus outage" + when(f) + lasting(f); },
       bus_outage},
      // Counted where a cut-off node is refused (SimDatabase's report).
      {Kind::store_partition, "store_partition", Names::node, Length::required, false,
       "fault.store.partition", true,
       [](const ScriptedFault& f) { return "store cut off from " + f.node + when(f) + lasting(f); },
       store_partition},
      {Kind::clock_step_back, "clock_step_back", Names::node, Length::required, true,
       "fault.clock.step_back", false,
       [](const ScriptedFault& f) {
         return "clock of " + f.node + " steps back -" + format_duration(f.length) + when(f);
       },
       [](FaultTargets& t, const ScriptedFault& f) {
         return step_clock(t, f, "fault.clock.step_back", "clock.step_back", -1);
       }},
      {Kind::drain, "drain", Names::gateway, Length::restart, false, "fault.process.drain", false,
       [](const ScriptedFault& f) {
         return "drain " + f.node + when(f) + " (restart +" + format_duration(f.length) + ")";
       },
       drain},
  };
}

std::vector<ScriptedFaultRow> build() {
  std::vector<ScriptedFaultRow> rows = first_rows();
  for (ScriptedFaultRow& row : later_rows()) rows.push_back(row);
  check(rows);
  return rows;
}

}  // namespace

const std::vector<ScriptedFaultRow>& scripted_faults() {
  static const std::vector<ScriptedFaultRow> rows = build();
  return rows;
}

const ScriptedFaultRow& scripted_fault(ScriptedFault::Kind kind) {
  const auto index = static_cast<std::size_t>(kind);
  RELIANT_ASSERT(index < scripted_faults().size());
  return scripted_faults()[index];
}

}  // namespace reliant::sim
