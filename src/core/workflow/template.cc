// Templates: splitting text at `{{ }}` holes, parsing each hole as CEL, and evaluating.
#include "core/workflow/template.h"

#include "core/cel/parser.h"

namespace reliant::workflow {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Where the hole that starts at `from` (just past "{{") ends: the offset of its "}}", skipping
// CEL string literals so that `'}}'` inside a hole does not close it. npos when unclosed.
std::size_t hole_end(std::string_view text, std::size_t from) {
  std::size_t i = from;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\'' || c == '"') {
      const bool triple = text.substr(i, 3) == std::string(3, c);
      const std::string_view close = triple ? text.substr(i, 3) : text.substr(i, 1);
      i += close.size();
      while (i < text.size() && text.substr(i, close.size()) != close) {
        i += text[i] == '\\' ? 2 : 1;
      }
      i += close.size();
      continue;
    }
    if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') return i;
    ++i;
  }
  return std::string_view::npos;
}

tl::expected<std::shared_ptr<const cel::Program>, TemplateError> parse_hole(std::string_view text,
                                                                            std::size_t begin,
                                                                            std::size_t end) {
  const auto source = text.substr(begin, end - begin);
  if (trimmed(source).empty()) return tl::unexpected(TemplateError{begin, "empty {{ }}"});
  auto tree = cel::parse(source);
  if (!tree) {
    return tl::unexpected(TemplateError{begin + tree.error().offset, tree.error().message});
  }
  return std::make_shared<const cel::Program>(std::move(*tree));
}

}  // namespace

tl::expected<Template, TemplateError> Template::parse(std::string_view text) {
  Template t;
  t.text_ = std::string(text);
  std::size_t at = 0;
  while (true) {
    const auto open = text.find("{{", at);
    if (open == std::string_view::npos) break;
    const auto close = hole_end(text, open + 2);
    if (close == std::string_view::npos) {
      return tl::unexpected(TemplateError{open, "\"{{\" without its \"}}\""});
    }
    auto hole = parse_hole(text, open + 2, close);
    if (!hole) return tl::unexpected(hole.error());
    t.parts_.push_back(Part{std::string(text.substr(at, open - at)), std::move(*hole), open + 2});
    at = close + 2;
  }
  if (at < text.size()) t.parts_.push_back(Part{std::string(text.substr(at)), nullptr, at});
  const auto core = trimmed(text);
  t.whole_ = t.parts_.size() == 1 && t.parts_[0].hole != nullptr && core.starts_with("{{") &&
             core.ends_with("}}") && trimmed(t.parts_[0].literal).empty();
  if (!t.whole_ && t.parts_.size() == 2 && t.parts_[0].hole != nullptr &&
      trimmed(t.parts_[0].literal).empty() && trimmed(t.parts_[1].literal).empty() &&
      t.parts_[1].hole == nullptr) {
    t.whole_ = true;  // "{{ x }}\n", as a block scalar ends: whitespace around one hole
    t.parts_.pop_back();
  }
  return t;
}

tl::expected<Template, TemplateError> Template::parse_expression(std::string_view text) {
  const auto core = trimmed(text);
  if (core.starts_with("{{")) {
    auto t = parse(text);
    if (t && !t->whole_) {
      return tl::unexpected(TemplateError{0, "an expression must be one {{ }} or bare CEL"});
    }
    return t;
  }
  Template t;
  t.text_ = std::string(text);
  auto hole = parse_hole(text, 0, text.size());
  if (!hole) return tl::unexpected(hole.error());
  t.parts_.push_back(Part{"", std::move(*hole), 0});
  t.whole_ = true;
  return t;
}

bool Template::has_holes() const {
  for (const auto& part : parts_) {
    if (part.hole != nullptr) return true;
  }
  return false;
}

tl::expected<cel::Value, cel::EvalError> Template::evaluate(const cel::Activation& variables,
                                                            const cel::EvalOptions& options) const {
  auto located = [](std::size_t hole_offset, cel::EvalError e) {
    e.offset += hole_offset;
    return tl::unexpected(std::move(e));
  };
  if (whole_) {
    auto value = parts_[0].hole->evaluate(variables, options);
    if (!value) return located(parts_[0].offset, value.error());
    return value;
  }
  std::string out;
  for (const auto& part : parts_) {
    out += part.literal;
    if (part.hole == nullptr) continue;
    auto value = part.hole->evaluate(variables, options);
    if (!value) return located(part.offset, value.error());
    out += interpolated(*value);
    // Each hole's value is bounded, not how many a text repeats: the text is held to the bound
    // on one value's size (16 bytes a unit).
    if (out.size() / 16 > cel::kValueUnitsMax) {
      return located(part.offset,
                     cel::EvalError{0, "the text is longer than " +
                                           std::to_string(cel::kValueUnitsMax * 16) + " bytes"});
    }
  }
  return cel::Value(std::move(out));
}

std::string interpolated(const cel::Value& value) {
  if (const auto* s = value.get_if<std::string>()) return *s;
  if (value.is<std::nullptr_t>()) return "";
  const auto json = cel::to_json(value);
  return json.is_string() ? json.get<std::string>() : json.dump();
}

const TemplateTree* TemplateTree::field(std::string_view name) const {
  for (const auto& field : fields) {
    if (field.name == name) return &field.value;
  }
  return nullptr;
}

namespace {

tl::expected<cel::Value, TreeError> assemble(const TemplateTree& tree,
                                             const cel::Activation& variables,
                                             std::string_view where,
                                             const cel::EvalOptions& options) {
  switch (tree.kind) {
    case TemplateTree::Kind::value:
      return tree.value;
    case TemplateTree::Kind::text: {
      auto value = tree.text->evaluate(variables, options);
      if (!value) return tl::unexpected(TreeError{std::string(where), value.error()});
      return std::move(*value);
    }
    case TemplateTree::Kind::list: {
      cel::ValueList items;
      items.reserve(tree.items.size());
      for (std::size_t i = 0; i < tree.items.size(); ++i) {
        auto item = assemble(tree.items[i], variables,
                             std::string(where) + "[" + std::to_string(i) + "]", options);
        if (!item) return item;
        items.push_back(std::move(*item));
      }
      return cel::Value(std::move(items));
    }
    case TemplateTree::Kind::map: {
      cel::ValueMap map;
      for (const auto& [key, field] : tree.fields) {
        auto value = assemble(field, variables,
                              where.empty() ? key : std::string(where) + "." + key, options);
        if (!value) return value;
        map.insert(cel::Value(key), std::move(*value));
      }
      return cel::Value(std::move(map));
    }
  }
  return tree.value;
}

}  // namespace

tl::expected<cel::Value, TreeError> evaluate(const TemplateTree& tree,
                                             const cel::Activation& variables,
                                             std::string_view where,
                                             const cel::EvalOptions& options) {
  auto value = assemble(tree, variables, where, options);
  // Each template's value is bounded (cel::oversize), not a tree of many: the tree's own levels
  // and its many holes are checked once it is whole.
  if (value && tree.kind != TemplateTree::Kind::value && tree.kind != TemplateTree::Kind::text) {
    if (auto problem = cel::oversize(*value)) {
      return tl::unexpected(TreeError{std::string(where), cel::EvalError{0, *problem}});
    }
  }
  return value;
}

}  // namespace reliant::workflow
