// Printing by precedence: each operand is printed at the level its position demands, and a
// subtree below that level gets parentheses.
#include "core/cel/printer.h"

#include <cmath>
#include <cstdio>
#include <string_view>

namespace reliant::cel {
namespace {

// Binding strength, weakest first; an operand weaker than its slot is parenthesized.
enum Level : int {
  kConditional = 1,
  kOr,
  kAnd,
  kRelation,
  kAddition,
  kMultiplication,
  kUnary,
  kMember,
};

struct BinaryOperator {
  std::string_view function;
  std::string_view symbol;
  Level level;
};

constexpr BinaryOperator kBinary[] = {
    {op::kLogicalOr, "||", kOr},         {op::kLogicalAnd, "&&", kAnd},
    {op::kEquals, "==", kRelation},      {op::kNotEquals, "!=", kRelation},
    {op::kLess, "<", kRelation},         {op::kLessEquals, "<=", kRelation},
    {op::kGreater, ">", kRelation},      {op::kGreaterEquals, ">=", kRelation},
    {op::kIn, "in", kRelation},          {op::kAdd, "+", kAddition},
    {op::kSubtract, "-", kAddition},     {op::kMultiply, "*", kMultiplication},
    {op::kDivide, "/", kMultiplication}, {op::kModulo, "%", kMultiplication},
};

const BinaryOperator* binary_operator(const Call& call) {
  if (call.target || call.args.size() != 2) return nullptr;
  for (const auto& o : kBinary) {
    if (call.function == o.function) return &o;
  }
  return nullptr;
}

bool is_call_to(const Expr& expr, std::string_view function, std::size_t arity) {
  const auto* call = std::get_if<Call>(&expr.node);
  return call && !call->target && call->function == function && call->args.size() == arity;
}

// A constant printed with a leading minus binds like a unary expression: `!-1` does not parse,
// so it prints as `!(-1)`.
bool prints_negative(const Constant& constant) {
  if (const auto* i = std::get_if<std::int64_t>(&constant)) return *i < 0;
  if (const auto* d = std::get_if<double>(&constant)) return std::signbit(*d);
  return false;
}

// Whether `expr` prints starting with a non-negative number: a minus before it would fold into
// the literal (`-1.f()` is `(-1).f()`), so a negation of it needs parentheses.
bool starts_with_number(const Expr& expr) {
  const Expr* leftmost = &expr;
  for (;;) {
    if (const auto* select = std::get_if<Select>(&leftmost->node)) {
      leftmost = select->operand.get();
    } else if (const auto* call = std::get_if<Call>(&leftmost->node); call && call->target) {
      leftmost = call->target.get();
    } else if (call && !call->args.empty() &&
               (call->function == op::kIndex || call->function == op::kOptionalIndex)) {
      leftmost = &call->args[0];
    } else {
      break;
    }
  }
  const auto* constant = std::get_if<Constant>(&leftmost->node);
  return constant && !prints_negative(*constant) &&
         (std::holds_alternative<std::int64_t>(*constant) ||
          std::holds_alternative<double>(*constant));
}

Level level_of(const Expr& expr) {
  if (const auto* call = std::get_if<Call>(&expr.node)) {
    if (const auto* o = binary_operator(*call)) return o->level;
    if (is_call_to(expr, op::kConditional, 3)) return kConditional;
    if (is_call_to(expr, op::kLogicalNot, 1) || is_call_to(expr, op::kNegate, 1)) return kUnary;
  }
  if (const auto* constant = std::get_if<Constant>(&expr.node);
      constant && prints_negative(*constant))
    return kUnary;
  return kMember;
}

void quote(std::string_view text, bool bytes, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += bytes ? "b\"" : "\"";
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      default:
        break;
    }
    // Text is UTF-8 and passes through; in bytes every octet outside printable ASCII is \xHH
    // (an octet there, while \x in a string would be a code point).
    const bool plain = bytes ? (c >= 0x20 && c < 0x7f) : (c >= 0x20 && c != 0x7f);
    if (plain) {
      out += ch;
    } else {
      out += bytes ? "\\x" : "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  out += '"';
}

class Printer {
 public:
  std::string out;

  void print(const Expr& expr, Level slot) {
    const bool parens = level_of(expr) < slot;
    if (parens) out += '(';
    print_node(expr);
    if (parens) out += ')';
  }

 private:
  void print_node(const Expr& expr) {
    std::visit([this, &expr](const auto& node) { print_as(node, expr); }, expr.node);
  }

  void print_as(const Constant& constant, const Expr&) { out += to_source(constant); }

  void print_as(const Ident& ident, const Expr&) {
    if (ident.from_root) out += '.';
    out += ident.name;
  }

  void print_as(const Select& select, const Expr&) {
    print(*select.operand, kMember);
    out += select.optional ? ".?" : ".";
    out += select.field;
  }

  void print_as(const Call& call, const Expr& expr) {
    if (const auto* o = binary_operator(call)) {
      // Left-associative: the left operand may be at the same level, the right may not. && and
      // || are built balanced, so both of their operands are parenthesized at the same level.
      const bool logical = o->level == kOr || o->level == kAnd;
      print(call.args[0], logical ? static_cast<Level>(o->level + 1) : o->level);
      out += ' ';
      out += o->symbol;
      out += ' ';
      print(call.args[1], static_cast<Level>(o->level + 1));
      return;
    }
    if (is_call_to(expr, op::kConditional, 3)) {
      print(call.args[0], kOr);
      out += " ? ";
      print(call.args[1], kOr);
      out += " : ";
      print(call.args[2], kConditional);
      return;
    }
    if (is_call_to(expr, op::kLogicalNot, 1) || is_call_to(expr, op::kNegate, 1)) {
      const bool negate = call.function == op::kNegate;
      out += negate ? '-' : '!';
      const Expr& operand = call.args[0];
      // A run of the same operator needs no parentheses; anything else below member level does,
      // and so does a number after a minus (it would fold into a negative literal).
      const bool same_run = is_call_to(operand, call.function, 1);
      if (negate && level_of(operand) == kMember && starts_with_number(operand)) {
        out += '(';
        print_node(operand);
        out += ')';
      } else {
        print(operand, same_run ? kUnary : kMember);
      }
      return;
    }
    if (is_call_to(expr, op::kIndex, 2) || is_call_to(expr, op::kOptionalIndex, 2)) {
      print(call.args[0], kMember);
      out += call.function == op::kIndex ? "[" : "[?";
      print(call.args[1], kConditional);
      out += ']';
      return;
    }
    if (call.target) {
      print(*call.target, kMember);
      out += '.';
    }
    out += call.function;
    out += '(';
    for (std::size_t i = 0; i < call.args.size(); ++i) {
      if (i > 0) out += ", ";
      print(call.args[i], kConditional);
    }
    out += ')';
  }

  void print_as(const List& list, const Expr&) {
    out += '[';
    for (std::size_t i = 0; i < list.elements.size(); ++i) {
      if (i > 0) out += ", ";
      if (list.elements[i].optional) out += '?';
      print(list.elements[i].value, kConditional);
    }
    out += ']';
  }

  void print_as(const Map& map, const Expr&) {
    out += '{';
    for (std::size_t i = 0; i < map.entries.size(); ++i) {
      if (i > 0) out += ", ";
      if (map.entries[i].optional) out += '?';
      print(map.entries[i].key, kConditional);
      out += ": ";
      print(map.entries[i].value, kConditional);
    }
    out += '}';
  }

  void print_as(const Message& message, const Expr&) {
    out += message.type_name;
    out += '{';
    for (std::size_t i = 0; i < message.fields.size(); ++i) {
      if (i > 0) out += ", ";
      if (message.fields[i].optional) out += '?';
      out += message.fields[i].field;
      out += ": ";
      print(message.fields[i].value, kConditional);
    }
    out += '}';
  }
};

}  // namespace

std::string to_source(const Constant& constant) {
  return std::visit(
      [](const auto& value) -> std::string {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return "null";
        } else if constexpr (std::is_same_v<T, bool>) {
          return value ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return std::to_string(value);
        } else if constexpr (std::is_same_v<T, std::uint64_t>) {
          return std::to_string(value) + "u";
        } else if constexpr (std::is_same_v<T, double>) {
          // No literal spells these; the conversion from string does.
          if (std::isnan(value)) return "double(\"NaN\")";
          if (std::isinf(value))
            return value > 0 ? "double(\"Infinity\")" : "double(\"-Infinity\")";
          char buffer[32];
          std::snprintf(buffer, sizeof buffer, "%.17g", value);
          std::string text = buffer;
          if (text.find_first_of(".e") == std::string::npos) text += ".0";
          return text;
        } else if constexpr (std::is_same_v<T, std::string>) {
          std::string out;
          quote(value, false, out);
          return out;
        } else {
          std::string out;
          quote(value.octets, true, out);
          return out;
        }
      },
      constant);
}

std::string to_source(const Expr& expr) {
  Printer printer;
  printer.print(expr, kConditional);
  return std::move(printer.out);
}

}  // namespace reliant::cel
