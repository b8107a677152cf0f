// What reads a scenario file (scenario.cc, scenario_faults.cc) shares: the Reader, which turns
// every problem into a file:line:column error, and the readers of each section.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "base/result.h"
#include "sim/scenario.h"

namespace reliant::sim::scenario_file {

inline std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

inline std::string kind_of(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "'" + node.Scalar() + "'";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "an undefined value";
  }
}

// Reads one scenario document, turning every problem into a located error.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  Error error(const YAML::Node& at, const std::string& path, const std::string& message) const {
    const auto mark = at.Mark();
    std::string where = file_;
    if (mark.line >= 0)
      where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    return Error{ErrorCode::invalid_argument,
                 where + ": " + (path.empty() ? "" : path + ": ") + message};
  }

  Result<void> expect_map(const YAML::Node& node, const std::string& path,
                          const std::vector<std::string>& allowed) const {
    if (!node.IsMap()) return fail(error(node, path, "expected a map, got " + kind_of(node)));
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        return fail(
            error(entry.first, path, "keys must be plain names, got " + kind_of(entry.first)));
      }
      const auto key = entry.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return fail(error(entry.first, path.empty() ? key : path + "." + key,
                          "unknown key (expected one of: " + join(allowed) + ")"));
      }
    }
    return {};
  }

  Result<std::string> string(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) return fail(error(node, path, "expected a string, got " + kind_of(node)));
    return node.Scalar();
  }

  Result<Duration> duration(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar())
      return fail(error(node, path, "expected a duration like 500ms or 2s, got " + kind_of(node)));
    auto parsed = parse_duration(node.Scalar());
    if (!parsed) return fail(error(node, path, parsed.error().message));
    return parsed;
  }

  Result<double> number(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) return fail(error(node, path, "expected a number, got " + kind_of(node)));
    const std::string& text = node.Scalar();
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) {
      return fail(error(node, path, "expected a number, got '" + text + "'"));
    }
    return value;
  }

  Result<double> probability(const YAML::Node& node, const std::string& path) const {
    auto value = number(node, path);
    if (!value) return value;
    if (*value < 0 || *value > 1)
      return fail(error(node, path, "a probability must be within [0, 1], got " + node.Scalar()));
    return value;
  }

  Result<int> count(const YAML::Node& node, const std::string& path, int max) const {
    if (!node.IsScalar())
      return fail(error(node, path, "expected a whole number, got " + kind_of(node)));
    const std::string& text = node.Scalar();
    char* end = nullptr;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || end != text.c_str() + text.size()) {
      return fail(error(node, path, "expected a whole number, got '" + text + "'"));
    }
    if (value < 0 || value > max) {
      return fail(
          error(node, path, "must be within [0, " + std::to_string(max) + "], got " + text));
    }
    return static_cast<int>(value);
  }

  Result<bool> boolean(const YAML::Node& node, const std::string& path) const {
    if (node.IsScalar() && (node.Scalar() == "true" || node.Scalar() == "false"))
      return node.Scalar() == "true";
    return fail(error(node, path, "expected true or false, got " + kind_of(node)));
  }

  // [min, max] of anything `one` can read, with min <= max.
  template <class T, class ReadOne>
  Result<Range<T>> range(const YAML::Node& node, const std::string& path, ReadOne one) const {
    if (!node.IsSequence() || node.size() != 2) {
      return fail(error(node, path, "expected a range [min, max], got " + kind_of(node)));
    }
    auto lo = one(node[0], path + "[0]");
    if (!lo) return fail(lo.error());
    auto hi = one(node[1], path + "[1]");
    if (!hi) return fail(hi.error());
    if (*hi < *lo) return fail(error(node, path, "range is empty: min is greater than max"));
    return Range<T>{*lo, *hi};
  }

 private:
  std::string file_;
};

// The `faults:` section: ranges and the scripted plan (scenario_faults.cc).
Result<void> read_faults(const Reader& r, const YAML::Node& node, Scenario& s);

// A trigger_client's config (scenario_trigger_client.cc).
Result<void> read_trigger_client_config(const Reader& r, const YAML::Node& config,
                                        const std::string& path, TriggerClientConfig& client);

// A client's workflow (YAML): it must load; its mistakes are reported at their place in the
// workflow, after the place of `node` in the scenario (scenario_workflow_client.cc).
Result<std::string> read_workflow_yaml(const Reader& r, const YAML::Node& node,
                                       const std::string& path);

// A workflow_client's parts (scenario_workflow_client.cc): `project:` and
// `project_workflows:`, `expect:` and `control:`.
Result<void> read_project_config(const Reader& r, const YAML::Node& config, const std::string& path,
                                 WorkflowClientConfig& client);
Result<void> read_expectations(const Reader& r, const YAML::Node& config, const std::string& path,
                               WorkflowClientConfig& client);
Result<void> read_workflow_control(const Reader& r, const YAML::Node& node, const std::string& path,
                                   WorkflowControlConfig& control);

}  // namespace reliant::sim::scenario_file
