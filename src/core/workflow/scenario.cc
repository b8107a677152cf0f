// The scenario runner: drives the interpreter with scripted results and checks expectations.
#include "core/workflow/scenario.h"

#include <algorithm>
#include <set>

#include <yaml-cpp/yaml.h>

#include "base/utf8.h"
#include "core/workflow/bounded_yaml.h"
#include "core/workflow/inputs.h"
#include "core/workflow/yaml_values.h"

namespace reliant::workflow {
namespace {

using Keys = std::set<std::string, std::less<>>;
const Keys kScenarioKeys = {"name",     "description", "inputs", "state",
                            "start_at", "events",      "expect"};
const Keys kEventKeys = {"node", "output", "error"};
const Keys kExpectKeys = {"outcome",      "reached",    "not_reached",
                          "node_outputs", "error_node", "error_contains"};

struct Reader {
  std::vector<Diagnostic> errors;

  void error(const YAML::Node& at, std::string message) {
    errors.push_back(Diagnostic{mark_of(at), std::move(message)});
  }

  void check_keys(const YAML::Node& map, const Keys& known, std::string_view what) {
    for (const auto& entry : map) {
      if (!known.contains(entry.first.Scalar())) {
        error(entry.first, "unknown key \"" + entry.first.Scalar() + "\" in " + std::string(what));
      }
    }
  }

  std::string text(const YAML::Node& node, std::string_view what) {
    if (!node.IsScalar()) {
      error(node, std::string(what) + " must be a string");
      return "";
    }
    return node.Scalar();
  }

  std::vector<std::string> paths(const YAML::Node& node, std::string_view what) {
    std::vector<std::string> out;
    if (!node || node.IsNull()) return out;
    if (!node.IsSequence()) {
      error(node, std::string(what) + " must be a list of node paths");
      return out;
    }
    for (const auto& item : node) out.push_back(text(item, what));
    return out;
  }

  Scenario scenario_at(const YAML::Node& doc) {
    Scenario s;
    s.mark = mark_of(doc);
    check_keys(doc, kScenarioKeys, "a scenario");
    if (const auto name = doc["name"]) s.name = text(name, "name");
    if (const auto d = doc["description"]) s.description = d.IsScalar() ? d.Scalar() : "";
    if (const auto inputs = doc["inputs"]; inputs && !inputs.IsNull()) {
      if (!inputs.IsMap())
        error(inputs, "inputs must be a map");
      else
        s.inputs = to_json(inputs);
    }
    if (const auto state = doc["state"]; state && !state.IsNull()) {
      if (!state.IsMap())
        error(state, "state must be a map of node id to output");
      else
        for (const auto& e : state) s.state[e.first.Scalar()] = to_value(e.second);
    }
    if (const auto start = doc["start_at"]) s.start_at = text(start, "start_at");
    if (const auto events = doc["events"]; events && !events.IsNull()) {
      if (!events.IsSequence()) {
        error(events, "events must be a list");
      } else {
        for (const auto& e : events) {
          if (s.events.size() >= kScenarioEventsMax) {
            error(e, "more than " + std::to_string(kScenarioEventsMax) + " events");
            break;
          }
          if (!e.IsMap()) {
            error(e, "an event must be a map with node and output");
            continue;
          }
          check_keys(e, kEventKeys, "an event");
          ScenarioEvent event;
          event.mark = mark_of(e);
          if (const auto node = e["node"])
            event.node = text(node, "event node");
          else
            error(e, "an event has no node");
          if (const auto output = e["output"])
            event.output = to_value(output);
          else
            event.output = cel::Value(cel::ValueMap{});
          if (const auto err = e["error"]) event.error = text(err, "event error");
          s.events.push_back(std::move(event));
        }
      }
    }
    if (const auto expect = doc["expect"]; expect && !expect.IsNull()) {
      if (!expect.IsMap()) {
        error(expect, "expect must be a map");
      } else {
        check_keys(expect, kExpectKeys, "expect");
        auto& x = s.expect;
        if (const auto outcome = expect["outcome"]) {
          x.outcome = text(outcome, "outcome");
          if (*x.outcome != "completed" && *x.outcome != "error")
            error(outcome, "outcome must be completed or error");
        }
        x.reached = paths(expect["reached"], "reached");
        x.not_reached = paths(expect["not_reached"], "not_reached");
        if (const auto outputs = expect["node_outputs"]; outputs && !outputs.IsNull()) {
          if (!outputs.IsMap())
            error(outputs, "node_outputs must be a map of node path to fields");
          else
            for (const auto& e : outputs)
              x.node_outputs.emplace_back(e.first.Scalar(), to_value(e.second));
        }
        if (const auto node = expect["error_node"]) x.error_node = text(node, "error_node");
        if (const auto contains = expect["error_contains"])
          x.error_contains = text(contains, "error_contains");
      }
    }
    return s;
  }
};

std::string shown(const cel::Value& v) { return cel::to_json(v).dump(); }

// Whether `actual` has every field `expected` names, equal (maps match field by field, so a
// scenario names only what it cares about).
bool fields_match(const cel::Value& expected, const cel::Value& actual, std::string& why,
                  const std::string& where) {
  const auto* want = expected.map();
  const auto* have = actual.map();
  if (want == nullptr || have == nullptr) {
    if (expected == actual) return true;
    why = where + " is " + shown(actual) + ", expected " + shown(expected);
    return false;
  }
  for (const auto& [key, value] : want->entries()) {
    const auto* found = have->find(key);
    const auto name = where + "." + *key.get_if<std::string>();
    if (found == nullptr) {
      why = name + " is missing, expected " + shown(value);
      return false;
    }
    if (!fields_match(value, *found, why, name)) return false;
  }
  return true;
}

}  // namespace

tl::expected<std::vector<Scenario>, std::vector<Diagnostic>> load_scenarios(std::string_view yaml) {
  if (!is_valid_utf8(yaml)) {
    return tl::unexpected(std::vector<Diagnostic>{{{}, "the file is not valid UTF-8"}});
  }
  auto loaded = load_all_yaml(yaml);
  if (!loaded) return tl::unexpected(std::vector<Diagnostic>{std::move(loaded.error())});
  const std::vector<YAML::Node> docs = std::move(*loaded);
  Reader reader;
  std::vector<Scenario> out;
  for (const auto& doc : docs) {
    if (doc.IsNull()) continue;
    if (!doc.IsMap()) {
      reader.error(doc, "a scenario must be a YAML map");
      continue;
    }
    try {
      out.push_back(reader.scenario_at(doc));
    } catch (const YAML::Exception& e) {
      reader.errors.push_back({Mark{e.mark.line + 1, e.mark.column + 1}, "YAML: " + e.msg});
    }
  }
  if (!reader.errors.empty()) return tl::unexpected(std::move(reader.errors));
  if (out.empty())
    return tl::unexpected(std::vector<Diagnostic>{{{}, "the file holds no scenario"}});
  return out;
}

ScenarioOutcome run_scenario(const std::shared_ptr<const Definition>& definition,
                             const Scenario& scenario) {
  ScenarioOutcome result;
  auto inputs = resolve_inputs(definition->inputs, scenario.inputs, InputBounds::ignored);
  if (!inputs) {
    result.failures.push_back("inputs: " + inputs.error());
    return result;
  }
  RunContext context;
  context.inputs = std::move(*inputs);
  cel::ValueMap workflow;
  workflow.insert(cel::Value("id"), cel::Value("scenario-" + scenario.name));
  workflow.insert(cel::Value("name"), cel::Value(definition->name));
  workflow.insert(cel::Value("path"), cel::Value("/workspace"));
  workflow.insert(cel::Value("branch"), cel::Value("main"));
  context.workflow = cel::Value(std::move(workflow));
  context.state = scenario.state;
  context.start_at = scenario.start_at;
  Interpreter run(definition, std::move(context));

  std::vector<bool> used(scenario.events.size(), false);
  auto first_event = [&](const std::string& path) -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < scenario.events.size(); ++i) {
      if (!used[i] && scenario.events[i].node == path) return i;
    }
    return std::nullopt;
  };
  while (run.status() == RunStatus::running && !run.pending().empty()) {
    std::optional<std::pair<std::size_t, std::size_t>> next;  // (event, action)
    for (std::size_t a = 0; a < run.pending().size(); ++a) {
      const auto event = first_event(run.pending()[a].path);
      if (event && (!next || *event < next->first)) next = std::pair(*event, a);
    }
    NodeResult reported;
    if (next) {
      const auto& event = scenario.events[next->first];
      used[next->first] = true;
      ++result.events_used;
      reported = NodeResult{run.pending()[next->second].key, event.output, event.error};
    } else {
      // No event for any pending node: the oldest completes on its own, a message node with
      // its message, any other with an empty output (over its type's defaults).
      const auto& action = run.pending().front();
      result.unscripted.push_back(action.path);
      reported = NodeResult{
          action.key,
          action.type == NodeType::save_message ? action.args : cel::Value(cel::ValueMap{}),
          std::nullopt};
    }
    if (auto ok = run.report(reported); !ok) {
      result.failures.push_back(ok.error());
      break;
    }
  }
  result.status = run.status();
  result.reached = run.reached();
  auto& failures = result.failures;
  const auto outcome =
      run.status() == RunStatus::failed ? std::string("error") : std::string("completed");
  const auto& x = scenario.expect;
  if (x.outcome && *x.outcome != outcome) {
    failures.push_back("outcome is " + outcome + ", expected " + *x.outcome +
                       (run.status() == RunStatus::failed
                            ? " (" + run.error_node() + ": " + run.error() + ")"
                            : ""));
  } else if (!x.outcome && run.status() == RunStatus::failed) {
    failures.push_back("the run failed at " + run.error_node() + ": " + run.error());
  }
  const auto& reached = run.reached();
  auto was_reached = [&](const std::string& p) {
    return std::find(reached.begin(), reached.end(), p) != reached.end();
  };
  for (const auto& p : x.reached) {
    if (!was_reached(p)) failures.push_back("not reached: " + p);
  }
  for (const auto& p : x.not_reached) {
    if (was_reached(p)) failures.push_back("reached, expected not: " + p);
  }
  for (const auto& [path, fields] : x.node_outputs) {
    const auto* output = run.output_at(path);
    std::string why;
    if (output == nullptr)
      failures.push_back("node_outputs: " + path + " has no output");
    else if (!fields_match(fields, *output, why, path))
      failures.push_back("node_outputs: " + why);
  }
  if (x.error_node && run.error_node() != *x.error_node) {
    failures.push_back("error_node is \"" + run.error_node() + "\", expected \"" + *x.error_node +
                       "\"");
  }
  if (x.error_contains && run.error().find(*x.error_contains) == std::string::npos) {
    failures.push_back("error \"" + run.error() + "\" does not contain \"" + *x.error_contains +
                       "\"");
  }
  for (std::size_t i = 0; i < used.size(); ++i) {
    if (!used[i] && run.status() != RunStatus::failed) {
      failures.push_back("event " + std::to_string(i + 1) + " (" + scenario.events[i].node +
                         ", line " + std::to_string(scenario.events[i].mark.line) +
                         ") was never used");
    }
  }
  result.passed = failures.empty();
  return result;
}

}  // namespace reliant::workflow
