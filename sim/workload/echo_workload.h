// The echo workload as the runner sees it: echo_server and echo_client nodes, their counters
// (kept outside the components, so they survive crashes), the liveness check — after healing,
// every client still gets stream echoes and bus replies — and the echo table of the report.
#pragma once

#include <array>
#include <map>
#include <string>
#include <vector>

#include "sim/checker.h"
#include "sim/workload/echo.h"
#include "sim/workload/workload.h"

namespace reliant::sim {

class EchoWorkload final : public Workload {
 public:
  EchoWorkload(const Scenario& scenario, Checker& checker);

  static constexpr std::array<std::string_view, 2> kRoles = {"echo_server", "echo_client"};
  std::span<const std::string_view> roles() const override { return kRoles; }
  ComponentFactory factory(const NodeGroup& group, const std::string& name) override;
  void checkpoint(Instant now) override;
  void finish(Instant end) override;
  void summarize(RunReport& report) const override;

 private:
  struct Node {
    std::string role;
    EchoStats stats;
    EchoStats at_checkpoint;
  };

  const Scenario& scenario_;
  Checker& checker_;
  std::vector<std::string> servers_;  // every server's address, in topology order
  // By name: a map's nodes stay put, so components may hold on to their stats.
  std::map<std::string, Node> nodes_;
  std::vector<std::string> clients_;  // in topology order
  Instant checkpoint_{};
};

}  // namespace reliant::sim
