// The scripted fault table against the plan a scenario file writes: every row's key parses into
// its Kind with what it names and its length, counts toward its coverage counter, and prints.
#include "sim/scripted_faults.h"

#include <gtest/gtest.h>

#include "sim/fault_mix.h"

namespace reliant::sim {
namespace {

// A scenario with a database, two gateways (server-1, server-2) and a daemon, whose plan holds
// `entry`.
std::string with_plan(const std::string& entry) {
  return R"(name: t
duration: 60s
heal_at: 40s
topology:
  - {name: server, role: gateway, count: 2}
  - {name: laptop, role: daemon}
faults:
  plan:
    - )" +
         entry + "\n";
}

// A plan entry for `row`, as a scenario file writes it.
std::string entry_for(const ScriptedFaultRow& row) {
  std::string entry = "{at: 5s, " + std::string(row.key) + ": ";
  switch (row.names) {
    case ScriptedFaultRow::Names::nothing:
      entry += "true";
      break;
    case ScriptedFaultRow::Names::node:
    case ScriptedFaultRow::Names::gateway:
      entry += "server-1";
      break;
    case ScriptedFaultRow::Names::daemon:
      entry += "laptop-1";
      break;
    case ScriptedFaultRow::Names::two_nodes:
      entry += "[server-1, server-2]";
      break;
  }
  if (row.length == ScriptedFaultRow::Length::required) entry += ", length: 3s";
  return entry + "}";
}

TEST(ScriptedFaults, EveryKindHasOneRowThatAScenarioPlanReadsBack) {
  ASSERT_FALSE(scripted_faults().empty());
  for (std::size_t i = 0; i < scripted_faults().size(); ++i) {
    const ScriptedFaultRow& row = scripted_faults()[i];
    SCOPED_TRACE(std::string(row.key));
    EXPECT_EQ(&scripted_fault(row.kind), &row);
    auto scenario = parse_scenario(with_plan(entry_for(row)), "plan.yaml");
    ASSERT_TRUE(scenario.has_value()) << scenario.error().message;
    ASSERT_EQ(scenario->plan.size(), 1u);
    const ScriptedFault& fault = scenario->plan[0];
    EXPECT_EQ(fault.kind, row.kind);
    EXPECT_EQ(fault.at, seconds(5));
    EXPECT_EQ(fault.node.empty(), row.names == ScriptedFaultRow::Names::nothing);
    EXPECT_EQ(fault.other.empty(), row.names != ScriptedFaultRow::Names::two_nodes);
    if (row.length == ScriptedFaultRow::Length::required) {
      EXPECT_EQ(fault.length, seconds(3));
    } else if (row.length == ScriptedFaultRow::Length::restart) {
      EXPECT_EQ(fault.length, seconds(5));
    }
    EXPECT_TRUE(declared_faults(*scenario).contains(std::string(row.counter)));
    FaultMix mix;
    mix.events.push_back(fault);
    EXPECT_NE(mix.describe().find("@5s"), std::string::npos) << mix.describe();
  }
}

TEST(ScriptedFaults, APlanEntryMustNameExactlyOneFaultAndOnlyTheKeysItTakes) {
  auto none = parse_scenario(with_plan("{at: 5s, length: 3s}"), "plan.yaml");
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("needs exactly one of: crash, pause, partition"),
            std::string::npos)
      << none.error().message;
  auto two = parse_scenario(with_plan("{at: 5s, crash: server-1, pause: server-2, length: 1s}"),
                            "plan.yaml");
  EXPECT_FALSE(two.has_value());
  auto length = parse_scenario(with_plan("{at: 5s, reset_stream: true, length: 1s}"), "plan.yaml");
  ASSERT_FALSE(length.has_value());
  EXPECT_NE(length.error().message.find("take a length"), std::string::npos)
      << length.error().message;
  auto not_daemon = parse_scenario(with_plan("{at: 5s, revoke_token: server-1}"), "plan.yaml");
  ASSERT_FALSE(not_daemon.has_value());
  EXPECT_NE(not_daemon.error().message.find("is not a daemon"), std::string::npos);
  auto not_gateway = parse_scenario(with_plan("{at: 5s, drain: laptop-1}"), "plan.yaml");
  ASSERT_FALSE(not_gateway.has_value());
  EXPECT_NE(not_gateway.error().message.find("only a gateway drains"), std::string::npos)
      << not_gateway.error().message;
}

}  // namespace
}  // namespace reliant::sim
