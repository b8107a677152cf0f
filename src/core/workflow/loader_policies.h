// The loader's reading of the keys that say what a failure does and what a child is handed:
// `on_failure` (a node's pause|fail, a parallel loop's continue|fail_fast|fail_all, the
// workflow's default), a loop's `key`, and `passthrough`; and the located message for a template
// that does not parse. Internal to the loader (loader.cc), kept apart to keep that file short.
#pragma once

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/workflow/definition.h"
#include "core/workflow/loader.h"
#include "core/workflow/template.h"

namespace reliant::workflow {

// Reads `on_failure`, `key` and `passthrough` of `node` into `spec`, whose type, items and
// parallel are read already; each mistake is appended to `errors`.
void read_failure_keys(const YAML::Node& node, const std::string& what, NodeSpec& spec,
                       std::vector<Diagnostic>& errors);

// The workflow's own `on_failure: pause|fail`.
std::optional<FailurePolicy> workflow_failure_policy(const YAML::Node& value,
                                                     std::vector<Diagnostic>& errors);

// Refuses an inline body's output named with a leading "_": those names are the loop's own
// (`_iterations`, `_results`, `_completed`, `_failed`).
void check_output_name(const YAML::Node& name, std::vector<Diagnostic>& errors);

}  // namespace reliant::workflow
