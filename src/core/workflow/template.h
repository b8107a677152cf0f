// Templates: strings with `{{ expr }}` holes in CEL. A string that is exactly one hole keeps the
// value's type ("{{ inputs.turns_max }}" is an int); text around holes interpolates each value
// as a string. TemplateTree carries a YAML value whose strings may be templates (a node's args).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "core/cel/ast.h"
#include "core/cel/evaluator.h"
#include "core/cel/value.h"

namespace reliant::workflow {

// What went wrong where: `offset` is a byte offset into the template's text.
struct TemplateError {
  std::size_t offset = 0;
  std::string message;
};

class Template {
 public:
  // Parses every hole. "{{" without its "}}", or a hole whose CEL does not parse, is an error.
  static tl::expected<Template, TemplateError> parse(std::string_view text);
  // A bare CEL expression, as `condition:` and `while:` take it; "{{ expr }}" is accepted too.
  static tl::expected<Template, TemplateError> parse_expression(std::string_view text);

  // The value: the hole's own for a whole-string template, else the interpolated string
  // (strings as they are, null as "", other values as JSON).
  tl::expected<cel::Value, cel::EvalError> evaluate(const cel::Activation& variables,
                                                    const cel::EvalOptions& options = {}) const;

  const std::string& text() const { return text_; }
  bool has_holes() const;

 private:
  struct Part {
    std::string literal;                       // text before the hole, or the whole tail
    std::shared_ptr<const cel::Program> hole;  // null for trailing text
    std::size_t offset = 0;                    // where the hole's expression starts in text_
  };
  std::string text_;
  std::vector<Part> parts_;
  bool whole_ = false;  // the text is one hole and nothing else
};

struct TemplateField;

// A YAML value whose strings may hold templates: scalars, lists and maps (in written order).
struct TemplateTree {
  enum class Kind { value, text, list, map };
  Kind kind = Kind::value;
  cel::Value value;  // Kind::value: a scalar with no holes
  std::shared_ptr<const Template> text;
  std::vector<TemplateTree> items;
  std::vector<TemplateField> fields;  // a vector of an incomplete type, as C++17 allows

  bool is_null() const { return kind == Kind::value && value.is<std::nullptr_t>(); }
  const TemplateTree* field(std::string_view name) const;
};

struct TemplateField {
  std::string name;
  TemplateTree value;
};

// Evaluates every template in `tree`; the first failure names its place, e.g. "args.model".
struct TreeError {
  std::string where;
  cel::EvalError error;
};
tl::expected<cel::Value, TreeError> evaluate(const TemplateTree& tree,
                                             const cel::Activation& variables,
                                             std::string_view where = {},
                                             const cel::EvalOptions& options = {});

// A value as text in an interpolation.
std::string interpolated(const cel::Value& value);

}  // namespace reliant::workflow
