// Workload: what one family of roles brings to a simulation run — the components of its nodes,
// what it does to the world before and during the run, the invariants it checks at the end and
// what it adds to the report. The runner knows only this interface; the one list of workloads is
// sim/workload/workloads.cc, so a new workload is a folder entry and a line there.
#pragma once

#include <algorithm>
#include <span>
#include <string>
#include <string_view>

#include "base/time.h"
#include "sim/process.h"
#include "sim/scenario.h"

namespace reliant::sim {

struct RunReport;

class Workload {
 public:
  virtual ~Workload() = default;

  // The roles whose nodes this workload builds (each workload's kRoles).
  virtual std::span<const std::string_view> roles() const = 0;
  bool builds(std::string_view role) const {
    const auto mine = roles();
    return std::find(mine.begin(), mine.end(), role) != mine.end();
  }
  // Before any process exists, once the database (if any) is migrated: rows the run starts with.
  virtual void seed() {}
  // The component factory of a node of one of this workload's roles.
  virtual ComponentFactory factory(const NodeGroup& group, const std::string& name) = 0;
  // Every node's process, in name order, once all exist and before any starts.
  virtual void attach(const std::string& /*name*/, SimProcess& /*process*/) {}
  // Once everything is attached, just before the processes start.
  virtual void begin() {}
  // A scripted fault, once the runner has applied its part (crashes, partitions, …); returns
  // whether this workload acted on it.
  virtual bool apply(const ScriptedFault& /*fault*/) { return false; }
  // Halfway through the healed phase: where liveness checks take their "before" reading.
  virtual void checkpoint(Instant /*now*/) {}
  // The end of the run: its invariants, into the checker it was given.
  virtual void finish(Instant end) = 0;
  // What it adds to the report: its figures, its rows in `nodes`, and its lines of text.
  virtual void summarize(RunReport& report) const = 0;
};

}  // namespace reliant::sim
