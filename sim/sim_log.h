// SimLog: a simulated process's Log. Each line carries the virtual time and the node, joins the
// run's trace (an event "log" with the line's digest, so same seed ⇒ same lines), and lands in
// the world's LogBook, which keeps the last lines for a failing run's report and can echo every
// line as it is written (`reliant-sim run --log`).
#pragma once

#include <string>

#include "runtime/log.h"
#include "sim/world.h"

namespace reliant::sim {

class SimLog final : public Log {
 public:
  SimLog(World& world, NodeId node) : world_(world), node_(node) {}
  bool enabled(LogLevel level) const override;
  void write(LogLevel level, std::string_view message) override;

 private:
  World& world_;
  NodeId node_;
};

}  // namespace reliant::sim
