// The tree-walking evaluator, internal to core/cel: operators by their internal names, macros as
// loops over a scope of comprehension variables, named functions from core/cel/functions.h, and
// a step counter against the cost budget. evaluate() runs it on a whole tree; Program's compiled
// steps call its operations as their slow path and run it on the subtrees they do not cover.
#pragma once

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "base/assert.h"
#include "base/utf8.h"
#include "core/cel/evaluator.h"
#include "core/cel/functions.h"
#include "core/cel/messages.h"
#include "core/cel/parser.h"
#include "core/cel/well_known.h"

namespace reliant::cel::detail {

inline constexpr std::int64_t kIntMin = std::numeric_limits<std::int64_t>::min();
inline constexpr std::int64_t kIntMax = std::numeric_limits<std::int64_t>::max();

// Type names that evaluate to type values when no variable of that name is bound.
inline constexpr std::string_view kTypeNames[] = {"int",
                                                  "uint",
                                                  "double",
                                                  "bool",
                                                  "string",
                                                  "bytes",
                                                  "list",
                                                  "map",
                                                  "null_type",
                                                  "type",
                                                  "optional_type",
                                                  "google.protobuf.Timestamp",
                                                  "google.protobuf.Duration"};

inline std::optional<Value> type_denotation(std::string_view name) {
  for (std::string_view type : kTypeNames) {
    if (name == type) return Value(Type{std::string(type)});
  }
  return std::nullopt;
}

inline std::int64_t code_points(std::string_view text) {
  std::int64_t count = 0;
  for (char c : text) count += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return count;
}

inline std::string format_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc() ? std::string(buffer, end) : std::string("?");
}

// The comprehension macros, which bind a variable over a list's elements or a map's keys.
inline bool is_comprehension(std::string_view function) {
  return function == "all" || function == "exists" || function == "exists_one" ||
         function == "map" || function == "filter";
}

// Calls the evaluator handles before evaluating their arguments: macros, which bind a variable
// or test presence; coalesce, which stops at the first non-null argument; optMap and
// optFlatMap; and `optional.of(…)`, where `optional` names a namespace. Program's compiled
// steps leave these to the evaluator whole.
inline bool evaluated_specially(const Call& call, Builtin op) {
  const std::string_view f = call.function;
  if (!call.target) return op == Builtin::has || f == "coalesce";
  if (const auto* ident = std::get_if<Ident>(&call.target->node);
      ident && ident->name == "optional") {
    return true;
  }
  return is_comprehension(f) || f == "optMap" || f == "optFlatMap";
}

// Whether a chain of selections starts at `google`, where it may name a type
// (google.protobuf.Timestamp) rather than select fields.
inline bool rooted_at_google(const Expr& expr) {
  const Expr* root = &expr;
  while (const auto* select = std::get_if<Select>(&root->node)) root = select->operand.get();
  const auto* ident = std::get_if<Ident>(&root->node);
  return ident != nullptr && ident->name == "google";
}

class Evaluator {
 public:
  Evaluator(const Activation& variables, const EvalOptions& options, Budget& budget)
      : variables_(variables), options_(options), budget_(budget) {}

  EvalResult eval(const Expr& expr) {
    if (!charge(1)) return error(expr, kBudgetExceeded);
    // The walk descends one level a node: the parser's bound on a tree's height bounds the stack.
    RELIANT_ASSERT_MSG(depth_ < kTreeHeightMax, "a tree taller than the parser lets through");
    ++depth_;
    EvalResult out =
        std::visit([this, &expr](const auto& node) { return eval_node(node, expr); }, expr.node);
    --depth_;
    // Running out of budget is final: no node turns it back into a value.
    RELIANT_ASSERT(!out || !exhausted());
    return out;
  }

  // Everything below is also the compiled program's (Program's) slow path: it calls these on
  // operands it has evaluated itself.
  const Activation& variables() const { return variables_; }
  // Whether a chain of selections may spell a name (a dotted variable, a registered message
  // type) rather than select fields: then the chain is resolved here, as a whole.
  bool names_may_be_dotted() const {
    return variables_.has_dotted_names() || options_.types != nullptr;
  }
  static tl::unexpected<EvalError> error(const Expr& at, std::string message) {
    return tl::unexpected(EvalError{at.offset, std::move(message)});
  }
  static tl::unexpected<EvalError> no_overload(const Expr& at, std::string_view function,
                                               const Args& args) {
    std::string types;
    for (const auto& arg : args) {
      if (!types.empty()) types += ", ";
      types += arg.type_name();
    }
    return error(at, "no such overload: " + std::string(function) + "(" + types + ")");
  }
  bool charge(std::int64_t steps) { return budget_.charge(steps); }
  bool exhausted() const { return budget_.exhausted(); }
  // A string or bytes kept in a list or map being built is a copy of its own (so is one inside
  // an optional): its bytes are charged as a concatenation's, or a list of copies of one long
  // text fills memory for a few steps an element.
  bool charge_kept(const Value& value) {
    if (const auto* text = value.get_if<std::string>()) return budget_.charge_bytes(text->size());
    if (const auto* bytes = value.get_if<Bytes>()) {
      return budget_.charge_bytes(bytes->octets.size());
    }
    if (const auto* optional = value.get_if<Optional>(); optional && optional->value) {
      return charge_kept(*optional->value);
    }
    return !exhausted();
  }

  EvalResult eval_node(const Constant& constant, const Expr&) {
    return Value::from_constant(constant);
  }

  EvalResult eval_node(const Ident& ident, const Expr& expr);

  // The variable name a chain of plain selections spells (qualified_name), unless its first
  // part is a comprehension variable, which shadows every global; a name from the root (".a")
  // is never shadowed.
  std::optional<std::string> global_name(const Expr& expr) const;

  // The registered message type `name` names from the container (EvalOptions), if any.
  std::shared_ptr<const MessageType> message_type(std::string_view name) const {
    if (!options_.types) return nullptr;
    for (const std::string& candidate : candidate_names(name, options_.container)) {
      if (auto type = options_.types->find(candidate)) return type;
    }
    return nullptr;
  }

  // Whether `expr`, a chain of selections, could spell a variable or a type name rather than
  // select fields: only with dotted variables bound or message types registered, or below
  // `google` (google.protobuf.*).
  bool may_name_something(const Expr& expr) const {
    return names_may_be_dotted() || rooted_at_google(expr);
  }

  // A chain of field selections on a variable (`nodes.think.tool_calls`), found in place: a
  // pointer into the activation or the maps it holds, so the chain copies one value instead of
  // one per step. nullptr for anything else, or a missing field: eval reports those.
  const Value* borrow(const Expr& expr, std::int64_t& steps) const {
    ++steps;
    if (const auto* ident = std::get_if<Ident>(&expr.node)) {
      if (!ident->from_root) {
        for (auto it = scope_.rbegin(); it != scope_.rend(); ++it) {
          if (it->first == ident->name) return &it->second;
        }
      }
      return variables_.find(ident->name);
    }
    const auto* select = std::get_if<Select>(&expr.node);
    if (select == nullptr || select->optional) return nullptr;
    const Value* operand = borrow(*select->operand, steps);
    const ValueMap* map = operand != nullptr ? operand->map() : nullptr;
    return map != nullptr ? map->find(std::string_view(select->field)) : nullptr;
  }

  EvalResult eval_node(const Select& select, const Expr& expr);

  EvalResult field(const Value& operand, const std::string& name, const Expr& at) {
    // A selection on an optional is an optional selection on its value: a.?b.c is none when a
    // has no b, and so is optional.of(a).b.
    if (operand.is<Optional>()) return optional_field(operand, name, at);
    if (const ValueMap* map = operand.map()) {
      if (const Value* found = map->find(std::string_view(name))) return *found;
      return error(at, "no such key: " + name);
    }
    if (const MessageValue* message = operand.message()) {
      auto value = message->get(name);
      if (!value) return error(at, std::move(value.error()));
      return std::move(*value);
    }
    return error(
        at, "type '" + std::string(operand.type_name()) + "' does not support field selection");
  }

  EvalResult optional_field(const Value& operand, const std::string& name, const Expr& at) {
    const Value* target = &operand;
    if (const auto* optional = operand.get_if<Optional>()) {
      if (!optional->value) return operand;  // none stays none
      target = optional->value.get();
    }
    if (const ValueMap* map = target->map()) {
      const Value* found = map->find(std::string_view(name));
      return Value(Optional{found ? std::make_shared<const Value>(*found) : nullptr});
    }
    // A message's field is present when has() says so: an unset one gives optional.none().
    if (const MessageValue* message = target->message()) {
      auto set = message->has(name);
      if (!set) return error(at, std::move(set.error()));
      if (!*set) return Value(Optional{});
      return Value(Optional{std::make_shared<const Value>(*message->get(name))});
    }
    return error(
        at, "type '" + std::string(target->type_name()) + "' does not support field selection");
  }

  EvalResult eval_node(const List& list, const Expr&);

  EvalResult eval_node(const Map& map, const Expr&);

  // google.protobuf's well-known types stand for CEL values (core/cel/well_known.h); other types
  // come from EvalOptions::types, their names resolved in EvalOptions::container.
  EvalResult eval_node(const Message& message, const Expr& expr);

  EvalResult eval_node(const Call& call, const Expr& expr);

  // `optional.of(x)` and friends: `optional` is a namespace, not a variable, unless one is bound.
  bool is_optional_namespace(const Expr& target) const {
    const auto* ident = std::get_if<Ident>(&target.node);
    return ident && ident->name == "optional" && !variables_.find("optional") &&
           global_name(target).has_value();
  }

  EvalResult optional_constructor(const Call& call, const Expr& expr);

  // The zero value of its type: null, false, 0, 0u, 0.0, "", b"", [], {}, a message with no field
  // set.
  static bool is_zero(const Value& v);

  // && and ||: a decisive operand (false for &&, true for ||) wins over an error on either side.
  EvalResult logical(const Call& call, const Expr& expr, bool is_and);

  EvalResult conditional(const Call& call, const Expr& expr) {
    auto condition = eval(call.args[0]);
    if (!condition) return condition;
    const bool* b = condition->get_if<bool>();
    if (!b) return no_overload(expr, "_?_:_", {*condition});
    return eval(call.args[*b ? 1 : 2]);
  }

  EvalResult has(const Expr& arg);

  // coalesce(a, b, …): the first argument that is not null, evaluated left to right and no
  // further; null if all are.
  EvalResult coalesce(const Call& call) {
    for (const auto& arg : call.args) {
      auto value = eval(arg);
      if (!value || !value->is<std::nullptr_t>()) return value;
    }
    return Value(nullptr);
  }

  // opt.optMap(x, f(x)) is optional.of(f(value)), opt.optFlatMap(x, g(x)) is g(value) (itself an
  // optional); both are optional.none() on optional.none().
  EvalResult optional_map(const Call& call, const Expr& expr);

  // all, exists, exists_one, map and filter over a list's elements or a map's keys.
  EvalResult comprehension(const Call& call, const Expr& expr);

  // Operators and functions on evaluated arguments; for a method call, args[0] is the target.
  EvalResult apply(std::string_view f, Builtin op, const Args& args, const Expr& expr, bool method);

  // Value equality with its work charged (core/cel/value.h's equal): comparing large inputs in
  // a loop runs out of budget instead of time; the caller checks exhausted().
  bool equals(const Value& a, const Value& b) { return equal(a, b, &budget_); }

  EvalResult relation(std::string_view f, Builtin op, const Value& a, const Value& b,
                      const Expr& expr) {
    RELIANT_ASSERT(op == Builtin::less || op == Builtin::less_equals || op == Builtin::greater ||
                   op == Builtin::greater_equals);
    const auto order = compare(a, b);
    if (!order) {
      const bool numbers = (a.is<std::int64_t>() || a.is<std::uint64_t>() || a.is<double>()) &&
                           (b.is<std::int64_t>() || b.is<std::uint64_t>() || b.is<double>());
      if (numbers) return Value(false);  // NaN is unordered: every comparison is false
      return no_overload(expr, f, {a, b});
    }
    if (op == Builtin::less) return Value(*order < 0);
    if (op == Builtin::less_equals) return Value(*order <= 0);
    if (op == Builtin::greater) return Value(*order > 0);
    return Value(*order >= 0);
  }

  EvalResult membership(const Value& item, const Value& container, const Expr& expr) {
    if (const ValueList* list = container.list()) {
      if (!charge(static_cast<std::int64_t>(list->size()))) {
        return error(expr, kBudgetExceeded);
      }
      for (const auto& element : *list) {
        const bool same = equals(element, item);
        if (exhausted()) return error(expr, kBudgetExceeded);
        if (same) return Value(true);
      }
      return Value(false);
    }
    if (const ValueMap* map = container.map()) return Value(map->find(item) != nullptr);
    return no_overload(expr, op::kIn, {item, container});
  }

  // A list position from an int, uint or integral double index.
  static std::optional<std::int64_t> position(const Value& index) {
    if (const auto* i = index.get_if<std::int64_t>()) return *i;
    if (const auto* u = index.get_if<std::uint64_t>()) {
      if (*u > static_cast<std::uint64_t>(kIntMax)) return kIntMax;
      return static_cast<std::int64_t>(*u);
    }
    if (const auto* d = index.get_if<double>()) {
      if (std::trunc(*d) != *d || std::abs(*d) > 9e18) return std::nullopt;
      return static_cast<std::int64_t>(*d);
    }
    return std::nullopt;
  }

  EvalResult index(const Value& container, const Value& key, const Expr& expr) {
    if (const ValueList* list = container.list()) {
      auto at = position(key);
      if (!at) return no_overload(expr, op::kIndex, {container, key});
      if (*at < 0 || *at >= static_cast<std::int64_t>(list->size())) {
        return error(expr, "index out of range: " + std::to_string(*at));
      }
      return (*list)[static_cast<std::size_t>(*at)];
    }
    if (const ValueMap* map = container.map()) {
      if (const Value* found = map->find(key)) return *found;
      return error(expr, "no such key: " + to_json(key).dump());
    }
    if (const auto* optional = container.get_if<Optional>()) {
      if (!optional->value) return container;
      return optional_index(*optional->value, key, expr);
    }
    return no_overload(expr, op::kIndex, {container, key});
  }

  EvalResult optional_index(const Value& container, const Value& key, const Expr& expr);

  // int and uint arithmetic: overflow and division by zero are errors, never wrapped values.
  template <class Int>
  static EvalResult checked(Builtin op, Int x, Int y, const Expr& expr) {
    Int out = 0;
    bool overflow = false;
    if (op == Builtin::add) overflow = __builtin_add_overflow(x, y, &out);
    if (op == Builtin::subtract) overflow = __builtin_sub_overflow(x, y, &out);
    if (op == Builtin::multiply) overflow = __builtin_mul_overflow(x, y, &out);
    if (op == Builtin::divide || op == Builtin::modulo) {
      if (y == 0)
        return error(expr, op == Builtin::divide ? "division by zero" : "modulus by zero");
      if constexpr (std::is_signed_v<Int>) overflow = x == kIntMin && y == -1;
      if (!overflow) out = op == Builtin::divide ? x / y : x % y;
    }
    if (overflow) return error(expr, std::is_signed_v<Int> ? "int overflow" : "uint overflow");
    return Value(out);
  }

  EvalResult arithmetic(std::string_view f, Builtin op, const Value& a, const Value& b,
                        const Expr& expr) {
    if (auto result = time_arithmetic(f, a, b)) {
      if (!*result) return error(expr, std::move(result->error()));
      return std::move(**result);
    }
    if (a.storage().index() != b.storage().index()) return no_overload(expr, f, {a, b});
    if (const auto* x = a.get_if<std::int64_t>()) {
      return checked(op, *x, *b.get_if<std::int64_t>(), expr);
    }
    if (const auto* x = a.get_if<std::uint64_t>()) {
      return checked(op, *x, *b.get_if<std::uint64_t>(), expr);
    }
    if (const auto* x = a.get_if<double>()) {
      const double y = *b.get_if<double>();
      if (op == Builtin::add) return Value(*x + y);
      if (op == Builtin::subtract) return Value(*x - y);
      if (op == Builtin::multiply) return Value(*x * y);
      if (op == Builtin::divide) return Value(*x / y);
      return no_overload(expr, f, {a, b});
    }
    if (op != Builtin::add) return no_overload(expr, f, {a, b});
    if (const auto* x = a.get_if<std::string>()) {
      const auto* y = b.get_if<std::string>();
      if (!charge(static_cast<std::int64_t>((x->size() + y->size()) / 16))) {
        return error(expr, kBudgetExceeded);
      }
      return Value(*x + *y);
    }
    if (const auto* x = a.get_if<Bytes>()) {
      const auto* y = b.get_if<Bytes>();
      if (!charge(static_cast<std::int64_t>((x->octets.size() + y->octets.size()) / 16))) {
        return error(expr, kBudgetExceeded);
      }
      return Value(Bytes{x->octets + y->octets});
    }
    if (const ValueList* x = a.list()) {
      const ValueList* y = b.list();
      if (!charge(static_cast<std::int64_t>(x->size() + y->size()))) {
        return error(expr, kBudgetExceeded);
      }
      ValueList out;
      out.reserve(x->size() + y->size());
      for (const ValueList* part : {x, y}) {
        for (const Value& element : *part) {
          if (!charge_kept(element)) return error(expr, kBudgetExceeded);
          out.push_back(element);
        }
      }
      return Value(std::move(out));
    }
    return no_overload(expr, f, {a, b});
  }

  EvalResult size(const Value& v, const Expr& expr);

  EvalResult convert(std::string_view f, const Value& v, const Expr& expr);

 private:
  const Activation& variables_;
  const EvalOptions& options_;
  Budget& budget_;  // once it is exhausted, every step fails and no operator absorbs that
  // Comprehension variables in scope, innermost last.
  std::vector<std::pair<std::string, Value>> scope_;
  int depth_ = 0;  // nodes being evaluated, one inside the other
};

}  // namespace reliant::cel::detail
