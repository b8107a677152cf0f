// Checker: collects invariant violations as they happen, with the virtual time they happened at.
#pragma once

#include <string>
#include <vector>

#include "base/time.h"

namespace reliant::sim {

struct Violation {
  Instant at;
  std::string invariant;
  std::string detail;
};

class Checker {
 public:
  void violation(Instant at, std::string invariant, std::string detail) {
    violations_.push_back(Violation{at, std::move(invariant), std::move(detail)});
  }
  bool ok() const { return violations_.empty(); }
  const std::vector<Violation>& violations() const { return violations_; }

 private:
  std::vector<Violation> violations_;
};

}  // namespace reliant::sim
