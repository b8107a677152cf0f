// Reading a workflow file's YAML with every mistake located: what the loader and the trigger
// declarations share — key checks, strings, CEL expressions and templates, whose parse errors
// point at the column inside the expression.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/workflow/definition.h"
#include "core/workflow/loader.h"
#include "core/workflow/template.h"

namespace reliant::workflow {

using KeySet = std::set<std::string, std::less<>>;

// "a, b, c": the keys in order, for a message.
std::string joined(const KeySet& keys);

// "what: column C of the expression: message", at the place in the file the error points to
// (inside the scalar when it is on one line).
Diagnostic template_diagnostic(const YAML::Node& node, std::string_view what,
                               const TemplateError& error);

// Collects diagnostics while it reads; nothing it reads throws away a mistake.
class YamlReader {
 public:
  std::vector<Diagnostic> errors;

  void error(const YAML::Node& at, std::string message);
  void error(Mark at, std::string message);

  // Reports every key of `map` outside `known` (and `extra`), naming where it appeared.
  void check_keys(const YAML::Node& map, const KeySet& known, std::string_view what,
                  const KeySet& extra = {});
  std::optional<std::string> string_at(const YAML::Node& node, std::string_view what);
  // A bare CEL expression (a condition); "{{ expr }}" is accepted too.
  std::optional<Template> expression_at(const YAML::Node& node, std::string_view what);
  // A template's parse error, at its column inside a one-line scalar.
  void template_error(const YAML::Node& node, std::string_view what, const TemplateError& e);
  // A YAML value whose strings may be templates; `what` names its place in messages.
  TemplateTree tree_at(const YAML::Node& node, const std::string& what);
};

}  // namespace reliant::workflow
