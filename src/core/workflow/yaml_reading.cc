// Reading a workflow file's YAML: keys, strings, expressions and templates, mistakes located.
#include "core/workflow/yaml_reading.h"

#include <algorithm>

#include "core/cel/parser.h"
#include "core/workflow/yaml_values.h"

namespace reliant::workflow {

std::string joined(const KeySet& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : ", ") + k;
  return out;
}

void YamlReader::error(const YAML::Node& at, std::string message) {
  errors.push_back(Diagnostic{mark_of(at), std::move(message)});
}
void YamlReader::error(Mark at, std::string message) {
  errors.push_back(Diagnostic{at, std::move(message)});
}

void YamlReader::check_keys(const YAML::Node& map, const KeySet& known, std::string_view what,
                            const KeySet& extra) {
  for (const auto& entry : map) {
    const auto key = entry.first.Scalar();
    if (!known.contains(key) && !extra.contains(key)) {
      KeySet all = known;
      all.insert(extra.begin(), extra.end());
      error(entry.first, "unknown key \"" + key + "\" in " + std::string(what) + " (expected " +
                             joined(all) + ")");
    }
  }
}

std::optional<std::string> YamlReader::string_at(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    error(node, std::string(what) + " must be a string");
    return std::nullopt;
  }
  return node.Scalar();
}

std::optional<Template> YamlReader::expression_at(const YAML::Node& node, std::string_view what) {
  if (!node.IsScalar()) {
    error(node, std::string(what) + " must be a CEL expression");
    return std::nullopt;
  }
  auto parsed = Template::parse_expression(node.Scalar());
  if (!parsed) {
    template_error(node, what, parsed.error());
    return std::nullopt;
  }
  return std::move(*parsed);
}

Diagnostic template_diagnostic(const YAML::Node& node, std::string_view what,
                               const TemplateError& error) {
  const auto& text = node.Scalar();
  const auto at = cel::position_of(text, std::min(error.offset, text.size()));
  auto mark = mark_of(node);
  // A one-line scalar: the column within it is the file's column (past the opening quote of a
  // quoted one).
  if (at.line == 1 && text.find('\n') == std::string::npos) {
    mark.column += at.column - 1 + (is_plain(node) ? 0 : 1);
  }
  return {mark, std::string(what) + ": " +
                    (at.line > 1 ? "line " + std::to_string(at.line) + ", " : std::string()) +
                    "column " + std::to_string(at.column) + " of the expression: " + error.message};
}

void YamlReader::template_error(const YAML::Node& node, std::string_view what,
                                const TemplateError& e) {
  errors.push_back(template_diagnostic(node, what, e));
}

TemplateTree YamlReader::tree_at(const YAML::Node& node, const std::string& what) {
  TemplateTree tree;
  if (node.IsSequence()) {
    tree.kind = TemplateTree::Kind::list;
    std::size_t i = 0;
    for (const auto& item : node) {
      tree.items.push_back(tree_at(item, what + "[" + std::to_string(i++) + "]"));
    }
    return tree;
  }
  if (node.IsMap()) {
    tree.kind = TemplateTree::Kind::map;
    for (const auto& entry : node) {
      const auto key = entry.first.Scalar();
      tree.fields.push_back({key, tree_at(entry.second, what.empty() ? key : what + "." + key)});
    }
    return tree;
  }
  if (!node.IsScalar()) return tree;  // null
  if (!is_plain(node) || scalar_value(node).is<std::string>()) {
    const auto& text = node.Scalar();
    if (text.find("{{") != std::string::npos) {
      auto parsed = Template::parse(text);
      if (!parsed) {
        template_error(node, what, parsed.error());
        return tree;
      }
      tree.kind = TemplateTree::Kind::text;
      tree.text = std::make_shared<const Template>(std::move(*parsed));
      return tree;
    }
  }
  tree.value = scalar_value(node);
  return tree;
}

}  // namespace reliant::workflow
