// Reading `on_failure`, `key` and `passthrough`, and locating template errors (loader_policies.h).
#include "core/workflow/loader_policies.h"

#include <algorithm>

#include "core/cel/parser.h"
#include "core/workflow/yaml_reading.h"
#include "core/workflow/yaml_values.h"

namespace reliant::workflow {
namespace {

std::optional<FailurePolicy> node_policy_at(const YAML::Node& value, const std::string& what,
                                            std::vector<Diagnostic>& errors) {
  auto policy = value.IsScalar() ? failure_policy_named(value.Scalar()) : std::nullopt;
  if (!policy) {
    errors.push_back({mark_of(value),
                      what + ": on_failure must be pause or fail, got " + to_json(value).dump()});
  }
  return policy;
}

void read_loop_policy(const YAML::Node& value, const std::string& what, NodeSpec& spec,
                      std::vector<Diagnostic>& errors) {
  auto policy = value.IsScalar() ? loop_failure_policy_named(value.Scalar()) : std::nullopt;
  if (!policy) {
    errors.push_back({mark_of(value), what +
                                          ": a loop's on_failure must be continue, fail_fast "
                                          "or fail_all, got " +
                                          to_json(value).dump()});
    return;
  }
  // A sequential loop stops at its first failed iteration: there is nothing else to decide.
  if (!spec.parallel_loop()) {
    errors.push_back({mark_of(value), what + ": on_failure applies to parallel loops only "
                                             "(items with parallel: true or a count above 1)"});
    return;
  }
  spec.loop_on_failure = policy;
}

void read_key(const YAML::Node& value, const std::string& what, NodeSpec& spec,
              std::vector<Diagnostic>& errors) {
  if (!spec.items) {
    errors.push_back({mark_of(value), what + ": key names the iterations of a loop over items; "
                                             "this loop has no items"});
    return;
  }
  if (!value.IsScalar()) {
    errors.push_back({mark_of(value), what + " key must be a CEL expression"});
    return;
  }
  auto parsed = Template::parse_expression(value.Scalar());
  if (!parsed) {
    errors.push_back(template_diagnostic(value, what + " key", parsed.error()));
    return;
  }
  spec.key = std::move(*parsed);
}

void read_passthrough(const YAML::Node& value, const std::string& what, NodeSpec& spec,
                      std::vector<Diagnostic>& errors) {
  auto name_at = [&](const YAML::Node& item) {
    if (!item.IsScalar() || item.Scalar().empty() || !scalar_value(item).is<std::string>()) {
      errors.push_back({mark_of(item), what +
                                           ": passthrough names inputs: a name or a list of "
                                           "names, got " +
                                           to_json(item).dump()});
      return;
    }
    if (std::find(spec.passthrough.begin(), spec.passthrough.end(), item.Scalar()) ==
        spec.passthrough.end())
      spec.passthrough.push_back(item.Scalar());
  };
  if (value.IsSequence()) {
    for (const auto& item : value) name_at(item);
  } else {
    name_at(value);
  }
}

}  // namespace

void read_failure_keys(const YAML::Node& node, const std::string& what, NodeSpec& spec,
                       std::vector<Diagnostic>& errors) {
  if (const auto value = child(node, "on_failure")) {
    if (spec.type == NodeType::loop) {
      read_loop_policy(value, what, spec, errors);
    } else {
      spec.on_failure = node_policy_at(value, what, errors);
    }
  }
  // Elsewhere these keys are unknown ones, reported as such.
  const bool loop = spec.type == NodeType::loop;
  if (const auto value = child(node, "key"); value && loop) read_key(value, what, spec, errors);
  if (const auto value = child(node, "passthrough");
      value && (loop || spec.type == NodeType::workflow))
    read_passthrough(value, what, spec, errors);
}

std::optional<FailurePolicy> workflow_failure_policy(const YAML::Node& value,
                                                     std::vector<Diagnostic>& errors) {
  return node_policy_at(value, "the workflow", errors);
}

void check_output_name(const YAML::Node& name, std::vector<Diagnostic>& errors) {
  if (!name.Scalar().starts_with("_")) return;
  errors.push_back({mark_of(name), "output \"" + name.Scalar() +
                                       "\": names starting with \"_\" are reserved for the "
                                       "outputs a loop adds (_iterations, _results …)"});
}

}  // namespace reliant::workflow
