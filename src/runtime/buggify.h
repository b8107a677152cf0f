// Buggify: a port through which the simulator makes rare paths common (FoundationDB's BUGGIFY)
// and hears that a rare-but-expected situation was reached (Antithesis' `sometimes`).
//
// Real binaries leave Env::buggify null: `buggify()` is then false and `sometimes()` a no-op, so
// a site costs one pointer test. In the simulator each site is switched on for a run or not
// (seeded), fires at some of its calls when on, and every activation is recorded in the trace and
// counted for the sweep's coverage table (docs/architecture.md §9).
#pragma once

#include <string_view>

namespace reliant {

class Buggify {
 public:
  virtual ~Buggify() = default;
  // Whether the rare path at `site` ("gateway.dispatch_lost") is taken this time.
  virtual bool fire(std::string_view site) = 0;
  // A situation worth reaching at least once across a sweep ("worker.lease_lost_mid_step").
  virtual void reached(std::string_view marker) = 0;
};

}  // namespace reliant
