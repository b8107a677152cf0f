// SimBuggify: the simulator's side of the Buggify port (runtime/buggify.h), one per run.
//
// As in FoundationDB, a site is switched on for a whole run or not (a quarter of the sites, drawn
// from the seed and the site's name, so the choice does not depend on which site asks first), and
// an active site fires at a quarter of its calls, until the run heals. A run without BUGGIFY (the
// scenario's `buggify: false`) never fires and only counts `sometimes` markers. Every firing is a
// trace event and a coverage hit; so is every marker reached.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "runtime/buggify.h"
#include "runtime/random.h"
#include "sim/world.h"

namespace reliant::sim {

class SimBuggify {
 public:
  static constexpr double kSiteActive = 0.25;  // FoundationDB's P_BUGGIFIED_SECTION_ACTIVATED
  static constexpr double kSiteFires = 0.25;   // …and P_BUGGIFIED_SECTION_FIRES

  SimBuggify(World& world, bool enabled);

  bool fire(NodeId node, std::string_view site);
  void reached(NodeId node, std::string_view marker);
  bool enabled() const { return enabled_; }
  // Faults end at heal_at, and so do BUGGIFY's rare paths: the liveness phase runs without them.
  void heal() { enabled_ = false; }

 private:
  bool active(std::string_view site);

  World& world_;
  bool enabled_;
  Random fires_;
  std::map<std::string, bool, std::less<>> active_;  // sites asked so far
};

// What one process's Env holds: the run's SimBuggify, told which node asks.
class NodeBuggify final : public Buggify {
 public:
  NodeBuggify(SimBuggify& run, NodeId node) : run_(run), node_(node) {}
  bool fire(std::string_view site) override { return run_.fire(node_, site); }
  void reached(std::string_view marker) override { run_.reached(node_, marker); }

 private:
  SimBuggify& run_;
  NodeId node_;
};

}  // namespace reliant::sim
