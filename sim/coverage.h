// Coverage: what a run exercised — each fault type that fired, each BUGGIFY site that fired and
// each `sometimes` marker reached, counted by name ("fault.bus.drop", "buggify.gateway.…",
// "sometimes.…"). A sweep sums the runs' counts, prints them as a table and fails when a fault
// type the scenario declares never fired: a fault that cannot fire tests nothing.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

namespace reliant::sim {

class Coverage {
 public:
  void hit(std::string_view name, std::uint64_t times = 1);
  std::uint64_t count(std::string_view name) const;
  const std::map<std::string, std::uint64_t, std::less<>>& counts() const { return counts_; }

  // "fault.bus.drop=12 fault.process.crash=2 …" (names hold no spaces or '='), and back.
  std::string encode() const;
  static Coverage decode(std::string_view text);

 private:
  std::map<std::string, std::uint64_t, std::less<>> counts_;
};

// A sweep's coverage: each name's total and the number of seeds in which it was hit.
struct SweepCoverage {
  std::map<std::string, std::uint64_t> total;
  std::map<std::string, std::uint64_t> seeds;
  std::uint64_t runs = 0;

  void add(const Coverage& run);
  // The declared fault types no seed fired.
  std::set<std::string> never_fired(const std::set<std::string>& declared) const;
  // The table `reliant-sim sweep --coverage` prints, declared faults first (unfired ones marked).
  std::string table(const std::set<std::string>& declared) const;
};

}  // namespace reliant::sim
