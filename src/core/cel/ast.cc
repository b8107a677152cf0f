// Structural equality of syntax trees, positions ignored.
#include "core/cel/ast.h"

#include <cmath>

namespace reliant::cel {
namespace {

bool same_constant(const Constant& a, const Constant& b) {
  if (a.index() != b.index()) return false;
  // Compare doubles by bits' meaning: -0.0 differs from 0.0, and NaN equals NaN here.
  if (const auto* x = std::get_if<double>(&a)) {
    const double y = std::get<double>(b);
    if (std::isnan(*x) || std::isnan(y)) return std::isnan(*x) && std::isnan(y);
    return *x == y && std::signbit(*x) == std::signbit(y);
  }
  return a == b;
}

bool same_pointer(const ExprPtr& a, const ExprPtr& b) {
  if (!a || !b) return !a && !b;
  return same_tree(*a, *b);
}

bool same_list(const std::vector<Expr>& a, const std::vector<Expr>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!same_tree(a[i], b[i])) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> qualified_name(const Expr& expr) {
  if (const auto* ident = std::get_if<Ident>(&expr.node)) {
    return (ident->from_root ? "." : "") + ident->name;
  }
  if (const auto* select = std::get_if<Select>(&expr.node); select && !select->optional) {
    auto prefix = qualified_name(*select->operand);
    if (prefix) return *prefix + "." + select->field;
  }
  return std::nullopt;
}

bool same_tree(const Expr& a, const Expr& b) {
  if (a.node.index() != b.node.index()) return false;
  return std::visit(
      [&b](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        const auto& y = std::get<T>(b.node);
        if constexpr (std::is_same_v<T, Constant>) {
          return same_constant(x, y);
        } else if constexpr (std::is_same_v<T, Ident>) {
          return x.name == y.name && x.from_root == y.from_root;
        } else if constexpr (std::is_same_v<T, Select>) {
          return x.field == y.field && x.optional == y.optional &&
                 same_pointer(x.operand, y.operand);
        } else if constexpr (std::is_same_v<T, Call>) {
          return x.function == y.function && same_pointer(x.target, y.target) &&
                 same_list(x.args, y.args);
        } else if constexpr (std::is_same_v<T, List>) {
          if (x.elements.size() != y.elements.size()) return false;
          for (std::size_t i = 0; i < x.elements.size(); ++i) {
            if (x.elements[i].optional != y.elements[i].optional ||
                !same_tree(x.elements[i].value, y.elements[i].value)) {
              return false;
            }
          }
          return true;
        } else if constexpr (std::is_same_v<T, Map>) {
          if (x.entries.size() != y.entries.size()) return false;
          for (std::size_t i = 0; i < x.entries.size(); ++i) {
            if (x.entries[i].optional != y.entries[i].optional ||
                !same_tree(x.entries[i].key, y.entries[i].key) ||
                !same_tree(x.entries[i].value, y.entries[i].value)) {
              return false;
            }
          }
          return true;
        } else {
          static_assert(std::is_same_v<T, Message>);
          if (x.type_name != y.type_name || x.fields.size() != y.fields.size()) return false;
          for (std::size_t i = 0; i < x.fields.size(); ++i) {
            if (x.fields[i].field != y.fields[i].field ||
                x.fields[i].optional != y.fields[i].optional ||
                !same_tree(x.fields[i].value, y.fields[i].value)) {
              return false;
            }
          }
          return true;
        }
      },
      a.node);
}

Builtin builtin_named(std::string_view function) noexcept {
  static constexpr std::pair<std::string_view, Builtin> kNames[] = {
      {op::kLogicalAnd, Builtin::logical_and},
      {op::kLogicalOr, Builtin::logical_or},
      {op::kConditional, Builtin::conditional},
      {op::kLogicalNot, Builtin::logical_not},
      {op::kNegate, Builtin::negate},
      {op::kEquals, Builtin::equals},
      {op::kNotEquals, Builtin::not_equals},
      {op::kLess, Builtin::less},
      {op::kLessEquals, Builtin::less_equals},
      {op::kGreater, Builtin::greater},
      {op::kGreaterEquals, Builtin::greater_equals},
      {op::kIn, Builtin::in},
      {op::kIndex, Builtin::index},
      {op::kOptionalIndex, Builtin::optional_index},
      {op::kAdd, Builtin::add},
      {op::kSubtract, Builtin::subtract},
      {op::kMultiply, Builtin::multiply},
      {op::kDivide, Builtin::divide},
      {op::kModulo, Builtin::modulo},
      {"size", Builtin::size},
      {"has", Builtin::has}};
  for (const auto& [name, builtin] : kNames) {
    if (name == function) return builtin;
  }
  return Builtin::other;
}

}  // namespace reliant::cel
