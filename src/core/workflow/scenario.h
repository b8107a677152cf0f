// Scenario files, in Reliant's format: a workflow run with scripted node results and the
// expected path and outcome. A YAML file holds one scenario per document.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <tl/expected.hpp>

#include "core/cel/value.h"
#include "core/workflow/definition.h"
#include "core/workflow/interpreter.h"
#include "core/workflow/loader.h"

namespace reliant::workflow {

// One scripted result: the node's path ("agent_loop.call_llm") and its output, or an error.
struct ScenarioEvent {
  std::string node;
  cel::Value output;
  std::optional<std::string> error;
  Mark mark;
};

struct ScenarioExpect {
  std::optional<std::string> outcome;  // completed | error
  std::vector<std::string> reached;
  std::vector<std::string> not_reached;
  std::vector<std::pair<std::string, cel::Value>> node_outputs;  // path → fields to match
  std::optional<std::string> error_node;
  std::optional<std::string> error_contains;
};

struct Scenario {
  std::string name;
  std::string description;
  nlohmann::json inputs = nlohmann::json::object();
  std::map<std::string, cel::Value> state;
  std::string start_at;
  std::vector<ScenarioEvent> events;
  ScenarioExpect expect;
  Mark mark;
};

inline constexpr std::size_t kScenarioEventsMax = 100'000;

tl::expected<std::vector<Scenario>, std::vector<Diagnostic>> load_scenarios(std::string_view yaml);

struct ScenarioOutcome {
  bool passed = false;
  std::vector<std::string> failures;  // each expectation not met, in words
  RunStatus status = RunStatus::running;
  std::vector<std::string> unscripted;  // nodes that completed without an event, in order
  std::size_t events_used = 0;
  std::vector<std::string> reached;
};

// Runs the scenario: each pending node takes the first unused event for its path (the node
// whose event comes first goes first). When no pending node has an event left, the oldest
// completes without one: a save_message node with its message, any other with an empty output
// laid over its type's defaults (a model call's are no text and no tool calls). Every event
// must be used. Scenario inputs are checked for type and enum, not min and max, so a scenario
// can reach a threshold with small numbers.
ScenarioOutcome run_scenario(const std::shared_ptr<const Definition>& definition,
                             const Scenario& scenario);

}  // namespace reliant::workflow
