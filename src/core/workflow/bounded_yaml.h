// YAML read within a budget: every entry point that takes YAML from someone (workflows to
// validate, run or store, their scenario files, the simulator's scenarios) reads it here.
// yaml-cpp builds an alias as a second reference to its anchor's node, so ~500 bytes of nested
// aliases are a tree of billions of nodes to whoever walks it (to_json, the loader), and an
// alias inside its own anchor is a cycle. The budget is checked on the parser's events, before
// any tree is built, in time linear in the text: each alias costs what its anchor expands to.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <tl/expected.hpp>

#include "core/workflow/loader.h"

namespace reliant::workflow {

struct YamlBudget {
  // Nodes (scalars, sequences, maps; keys included) of every document, each alias counted as
  // the nodes it names.
  // A workflow is at most kNodesMax graph nodes; a text of kWorkflowBytesMax without aliases
  // is far below this.
  std::size_t nodes_max = 250'000;
  // Bytes of scalars, aliases counted likewise.
  std::size_t scalar_bytes_max = 16u << 20;
  // Sequences and maps within one another: what they become is JSON, read back from the store
  // only kJsonDepthMax (64) deep.
  std::size_t depth_max = 64;
};

// Checks `yaml` (all its documents) against `budget` without building it. A problem names
// where (1-based) and why: the alias that ran over, or "YAML: …" for a syntax error.
tl::expected<void, Diagnostic> check_yaml_budget(std::string_view yaml,
                                                 const YamlBudget& budget = {});

// The first document, or every document, once check_yaml_budget passed.
tl::expected<YAML::Node, Diagnostic> load_yaml(std::string_view yaml,
                                               const YamlBudget& budget = {});
tl::expected<std::vector<YAML::Node>, Diagnostic> load_all_yaml(std::string_view yaml,
                                                                const YamlBudget& budget = {});

}  // namespace reliant::workflow
