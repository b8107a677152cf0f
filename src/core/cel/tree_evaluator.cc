// The tree-walking evaluator's operations (tree_evaluator.h): each kind of node, the logical
// operators, the macros' comprehension loops, functions and conversions. The small operations a
// compiled Program calls on its hot path (field, relation, membership, index, arithmetic) stay
// inline in the header.
#include "core/cel/tree_evaluator.h"

#include "base/assert.h"

namespace reliant::cel::detail {

EvalResult Evaluator::eval_node(const Ident& ident, const Expr& expr) {
  if (!ident.from_root) {
    for (auto it = scope_.rbegin(); it != scope_.rend(); ++it) {
      if (it->first == ident.name) return it->second;
    }
  }
  if (const Value* bound = variables_.find(ident.name)) return *bound;
  if (auto type = type_denotation(ident.name)) return *type;
  if (auto type = message_type(ident.name)) return Value(Type{type->name});
  return error(expr, "undeclared reference to '" + ident.name + "'");
}

std::optional<std::string> Evaluator::global_name(const Expr& expr) const {
  auto name = qualified_name(expr);
  if (!name) return std::nullopt;
  if (name->front() == '.') return name->substr(1);
  const std::string_view root = std::string_view(*name).substr(0, name->find('.'));
  for (const auto& local : scope_) {
    if (local.first == root) return std::nullopt;
  }
  return name;
}

EvalResult Evaluator::eval_node(const Select& select, const Expr& expr) {
  const bool may_name = !select.optional && may_name_something(expr);
  if (!select.optional && !may_name) {
    std::int64_t steps = 0;
    if (const Value* found = borrow(expr, steps)) {
      if (!charge(steps - 1)) return error(expr, kBudgetExceeded);  // eval charged this node
      return *found;
    }
  }
  if (may_name) {
    if (auto name = global_name(expr)) {
      if (const Value* bound = variables_.find(*name)) return *bound;
      if (auto type = type_denotation(*name)) return *type;
      if (auto type = message_type(*name)) return Value(Type{type->name});
    }
  }
  auto operand = eval(*select.operand);
  if (!operand) return operand;
  if (select.optional) return optional_field(*operand, select.field, expr);
  return field(*operand, select.field, expr);
}

EvalResult Evaluator::eval_node(const List& list, const Expr&) {
  ValueList out;
  out.reserve(list.elements.size());
  for (const auto& element : list.elements) {
    auto value = eval(element.value);
    if (!value) return value;
    if (element.optional) {
      const auto* optional = value->get_if<Optional>();
      if (!optional) return error(element.value, "an optional list element must be an optional");
      if (optional->value) {
        if (!charge_kept(*optional->value)) return error(element.value, kBudgetExceeded);
        out.push_back(*optional->value);
      }
      continue;
    }
    if (!charge_kept(*value)) return error(element.value, kBudgetExceeded);
    out.push_back(std::move(*value));
  }
  return Value(std::move(out));
}

EvalResult Evaluator::eval_node(const Map& map, const Expr&) {
  ValueMap out;
  for (const auto& entry : map.entries) {
    auto key = eval(entry.key);
    if (!key) return key;
    auto value = eval(entry.value);
    if (!value) return value;
    if (entry.optional) {
      const auto* optional = value->get_if<Optional>();
      if (!optional) return error(entry.value, "an optional map entry must be an optional");
      if (!optional->value) continue;
      Value present = *optional->value;  // copied out first: assigning frees the optional
      value = std::move(present);
    }
    if (key->is<double>() || !(key->is<bool>() || key->is<std::int64_t>() ||
                               key->is<std::uint64_t>() || key->is<std::string>())) {
      return error(entry.key, "unsupported key type '" + std::string(key->type_name()) + "'");
    }
    if (!charge_kept(*key) || !charge_kept(*value)) return error(entry.value, kBudgetExceeded);
    if (!out.insert(std::move(*key), std::move(*value))) {
      return error(entry.key, "repeated key in map literal");
    }
  }
  return Value(std::move(out));
}

EvalResult Evaluator::eval_node(const Message& message, const Expr& expr) {
  std::string name;
  std::shared_ptr<const MessageType> type;
  for (std::string& candidate : candidate_names(message.type_name, options_.container)) {
    if (options_.types) type = options_.types->find(candidate);
    if (type || is_well_known_type(candidate)) {
      name = std::move(candidate);
      break;
    }
  }
  if (name.empty()) return error(expr, "unknown type '" + message.type_name + "'");
  std::vector<std::pair<std::string, Value>> fields;
  for (const auto& init : message.fields) {
    auto value = eval(init.value);
    if (!value) return value;
    if (init.optional) {
      const auto* optional = value->get_if<Optional>();
      if (!optional) return error(init.value, "an optional field must be an optional");
      if (!optional->value) continue;
      Value present = *optional->value;  // copied out first: assigning frees the optional
      value = std::move(present);
    }
    fields.emplace_back(init.field, std::move(*value));
  }
  auto built = type ? MessageValue::make(std::move(type), fields) : make_well_known(name, fields);
  if (!built) return error(expr, built.error());
  return *built;
}

EvalResult Evaluator::eval_node(const Call& call, const Expr& expr) {
  const std::string_view f = call.function;
  const Builtin op = call.builtin == Builtin::unresolved ? builtin_named(f) : call.builtin;
  if (!call.target) {
    if (op == Builtin::logical_and || op == Builtin::logical_or)
      return logical(call, expr, op == Builtin::logical_and);
    if (op == Builtin::conditional) return conditional(call, expr);
    if (op == Builtin::has && call.args.size() == 1) return has(call.args[0]);
    if (f == "coalesce" && !call.args.empty()) return coalesce(call);
  } else if (call.args.size() == 2 || (f == "map" && call.args.size() == 3)) {
    if (is_comprehension(f)) return comprehension(call, expr);
    if (f == "optMap" || f == "optFlatMap") return optional_map(call, expr);
  }
  if (call.target && is_optional_namespace(*call.target)) return optional_constructor(call, expr);
  Args args;
  args.reserve(call.args.size() + 1);
  if (call.target) {
    auto target = eval(*call.target);
    if (!target) return target;
    args.push_back(std::move(*target));
  }
  for (const auto& arg : call.args) {
    auto value = eval(arg);
    if (!value) return value;
    args.push_back(std::move(*value));
  }
  return apply(f, op, args, expr, call.target != nullptr);
}

EvalResult Evaluator::optional_constructor(const Call& call, const Expr& expr) {
  const std::string_view f = call.function;
  if (f == "none" && call.args.empty()) return Value(Optional{});
  if ((f == "of" || f == "ofNonZeroValue") && call.args.size() == 1) {
    auto value = eval(call.args[0]);
    if (!value) return value;
    if (f == "ofNonZeroValue" && is_zero(*value)) return Value(Optional{});
    return Value(Optional{std::make_shared<const Value>(std::move(*value))});
  }
  return error(expr, "undeclared reference to function 'optional." + std::string(f) + "'");
}

bool Evaluator::is_zero(const Value& v) {
  if (v.is<std::nullptr_t>()) return true;
  if (const auto* b = v.get_if<bool>()) return !*b;
  if (const auto* i = v.get_if<std::int64_t>()) return *i == 0;
  if (const auto* u = v.get_if<std::uint64_t>()) return *u == 0;
  if (const auto* d = v.get_if<double>()) return *d == 0;
  if (const auto* s = v.get_if<std::string>()) return s->empty();
  if (const auto* o = v.get_if<Bytes>()) return o->octets.empty();
  if (const ValueList* list = v.list()) return list->empty();
  if (const ValueMap* map = v.map()) return map->size() == 0;
  if (const MessageValue* message = v.message()) return message->fields().empty();
  return false;
}

EvalResult Evaluator::logical(const Call& call, const Expr& expr, bool is_and) {
  std::optional<EvalError> failure;
  for (const auto& operand : call.args) {
    auto value = eval(operand);
    if (!value) {
      if (exhausted()) return value;  // no operand absorbs running out of budget
      if (!failure) failure = value.error();
      continue;
    }
    const bool* b = value->get_if<bool>();
    if (!b) {
      if (!failure) failure = no_overload(expr, is_and ? "_&&_" : "_||_", {*value}).value();
      continue;
    }
    if (*b != is_and) return Value(!is_and);
  }
  if (failure) return tl::unexpected(*failure);
  return Value(is_and);
}

EvalResult Evaluator::has(const Expr& arg) {
  const auto& select = std::get<Select>(arg.node);
  auto operand = eval(*select.operand);
  if (!operand) return operand;
  const Value* target = &*operand;
  // On an optional, has() tests its value; optional.none() has no fields.
  if (const auto* optional = operand->get_if<Optional>()) {
    if (!optional->value) return Value(false);
    target = optional->value.get();
  }
  if (const ValueMap* map = target->map()) {
    return Value(map->find(std::string_view(select.field)) != nullptr);
  }
  if (const MessageValue* message = target->message()) {
    auto set = message->has(select.field);
    if (!set) return error(arg, std::move(set.error()));
    return Value(*set);
  }
  return error(arg, "has() on type '" + std::string(target->type_name()) + "'");
}

EvalResult Evaluator::optional_map(const Call& call, const Expr& expr) {
  auto target = eval(*call.target);
  if (!target) return target;
  const auto* optional = target->get_if<Optional>();
  if (!optional) return no_overload(expr, call.function, {*target});
  if (!optional->value) return *target;
  scope_.emplace_back(std::get<Ident>(call.args[0].node).name, *optional->value);
  auto mapped = eval(call.args[1]);
  scope_.pop_back();
  if (!mapped || call.function == "optFlatMap") {
    if (mapped && !mapped->is<Optional>()) {
      return error(expr, "optFlatMap() must map to an optional");
    }
    return mapped;
  }
  return Value(Optional{std::make_shared<const Value>(std::move(*mapped))});
}

EvalResult Evaluator::comprehension(const Call& call, const Expr& expr) {
  auto range = eval(*call.target);
  if (!range) return range;
  // Iterated in place (`range` keeps the collection alive): copying it per evaluation would
  // cost time the budget does not see.
  const ValueList* list = range->list();
  const ValueMap* map = range->map();
  if (!list && !map) {
    return error(expr, call.function + "() over type '" + std::string(range->type_name()) + "'");
  }
  const std::size_t count = list ? list->size() : map->size();
  RELIANT_ASSERT(call.args.size() == 2 || call.args.size() == 3);  // as the parser expands them
  const std::string& variable = std::get<Ident>(call.args[0].node).name;
  const std::size_t scope_before = scope_.size();
  const std::string_view f = call.function;
  std::optional<EvalError> failure;
  std::int64_t matches = 0;
  ValueList out;
  for (std::size_t i = 0; i < count; ++i) {
    if (!charge(1)) return error(expr, kBudgetExceeded);
    const Value& item = list ? (*list)[i] : map->entries()[i].first;
    scope_.emplace_back(variable, item);
    auto step = eval(call.args[1]);
    EvalResult mapped;
    if (step && f == "map" && call.args.size() == 3) {
      const bool* keep = step->get_if<bool>();
      if (keep && *keep) mapped = eval(call.args[2]);
    }
    scope_.pop_back();
    RELIANT_ASSERT(scope_.size() == scope_before);  // each iteration leaves the scope as it was
    if (!step) {
      if (exhausted()) return step;
      if (f == "all" || f == "exists") {
        if (!failure) failure = step.error();
        continue;
      }
      return step;
    }
    if (f == "map") {
      if (call.args.size() == 2) {
        if (!charge_kept(*step)) return error(expr, kBudgetExceeded);
        out.push_back(std::move(*step));
        continue;
      }
      const bool* keep = step->get_if<bool>();
      if (!keep) return no_overload(call.args[1], "map", {*step});
      if (!*keep) continue;
      if (!mapped) return mapped;
      if (!charge_kept(*mapped)) return error(expr, kBudgetExceeded);
      out.push_back(std::move(*mapped));
      continue;
    }
    const bool* b = step->get_if<bool>();
    if (!b) return no_overload(call.args[1], f, {*step});
    if (f == "all" && !*b) return Value(false);
    if (f == "exists" && *b) return Value(true);
    if (f == "exists_one" && *b) ++matches;
    if (f == "filter" && *b) {
      if (!charge_kept(item)) return error(expr, kBudgetExceeded);
      out.push_back(item);
    }
  }
  RELIANT_ASSERT(out.size() <= count && matches <= static_cast<std::int64_t>(count));
  if (f == "map" || f == "filter") return Value(std::move(out));
  if (f == "exists_one") return Value(matches == 1);
  if (failure) return tl::unexpected(*failure);
  return Value(f == "all");
}

EvalResult Evaluator::apply(std::string_view f, Builtin op, const Args& args, const Expr& expr,
                            bool method) {
  if (args.size() == 2 && !method) {
    const Value& a = args[0];
    const Value& b = args[1];
    switch (op) {
      case Builtin::equals:
      case Builtin::not_equals: {
        const bool same = equals(a, b);
        if (exhausted()) return error(expr, kBudgetExceeded);
        return Value(same == (op == Builtin::equals));
      }
      case Builtin::less:
      case Builtin::less_equals:
      case Builtin::greater:
      case Builtin::greater_equals:
        return relation(f, op, a, b, expr);
      case Builtin::in:
        return membership(a, b, expr);
      case Builtin::index:
        return index(a, b, expr);
      case Builtin::optional_index:
        return optional_index(a, b, expr);
      case Builtin::add:
      case Builtin::subtract:
      case Builtin::multiply:
      case Builtin::divide:
      case Builtin::modulo:
        return arithmetic(f, op, a, b, expr);
      default:
        break;
    }
  }
  if (op == Builtin::size && args.size() == 1) return size(args[0], expr);
  if (args.size() == 1 && !method) {
    if (op == Builtin::logical_not) {
      if (const bool* b = args[0].get_if<bool>()) return Value(!*b);
      return no_overload(expr, f, args);
    }
    if (op == Builtin::negate) {
      if (const auto* i = args[0].get_if<std::int64_t>()) {
        if (*i == kIntMin) return error(expr, "int overflow");
        return Value(-*i);
      }
      if (const auto* d = args[0].get_if<double>()) return Value(-*d);
      return no_overload(expr, f, args);
    }
    if (f == "dyn") return args[0];
    if (f == "type") return Value(Type{std::string(args[0].type_name())});
    if (f == "int" || f == "uint" || f == "double" || f == "string" || f == "bool" ||
        f == "bytes") {
      return convert(f, args[0], expr);
    }
  }
  if (method && !args.empty()) {
    if (const auto* optional = args[0].get_if<Optional>()) {
      if (f == "hasValue" && args.size() == 1) return Value(optional->value != nullptr);
      if (f == "value" && args.size() == 1) {
        if (!optional->value) return error(expr, "optional.none() has no value");
        return *optional->value;
      }
      if (f == "orValue" && args.size() == 2) return optional->value ? *optional->value : args[1];
      if (f == "or" && args.size() == 2 && args[1].is<Optional>()) {
        return optional->value ? args[0] : args[1];
      }
    }
  }
  if (Function function = find_function(f)) {
    CallContext context{budget_, options_};
    auto result = function(args, method, context);
    if (!result) return no_overload(expr, f, args);
    if (!*result) return error(expr, std::move(result->error()));
    return std::move(**result);
  }
  static constexpr std::string_view kKnown[] = {"size",  "int",     "uint", "double",  "string",
                                                "bool",  "bytes",   "type", "dyn",     "hasValue",
                                                "value", "orValue", "or",   "coalesce"};
  for (std::string_view known : kKnown) {
    if (f == known) return no_overload(expr, f, args);
  }
  if (f.front() == '_' || f.front() == '!' || f.front() == '@' || f.front() == '-') {
    return no_overload(expr, f, args);
  }
  return error(expr, "undeclared reference to function '" + std::string(f) + "'");
}

EvalResult Evaluator::optional_index(const Value& container, const Value& key, const Expr& expr) {
  if (const auto* optional = container.get_if<Optional>()) {
    if (!optional->value) return container;
    return optional_index(*optional->value, key, expr);
  }
  auto found = index(container, key, expr);
  if (!found) {
    if (container.list() || container.map()) return Value(Optional{});
    return found;
  }
  return Value(Optional{std::make_shared<const Value>(std::move(*found))});
}

EvalResult Evaluator::size(const Value& v, const Expr& expr) {
  if (const auto* s = v.get_if<std::string>()) {
    if (!charge(static_cast<std::int64_t>(s->size() / 16))) return error(expr, kBudgetExceeded);
    return Value(code_points(*s));
  }
  if (const auto* b = v.get_if<Bytes>()) return Value(static_cast<std::int64_t>(b->octets.size()));
  if (const ValueList* list = v.list()) return Value(static_cast<std::int64_t>(list->size()));
  if (const ValueMap* map = v.map()) return Value(static_cast<std::int64_t>(map->size()));
  return no_overload(expr, "size", {v});
}

EvalResult Evaluator::convert(std::string_view f, const Value& v, const Expr& expr) {
  if (f == "int") {
    if (const auto* i = v.get_if<std::int64_t>()) return Value(*i);
    if (const auto* u = v.get_if<std::uint64_t>()) {
      if (*u > static_cast<std::uint64_t>(kIntMax)) return error(expr, "int overflow");
      return Value(static_cast<std::int64_t>(*u));
    }
    if (const auto* d = v.get_if<double>()) {
      // Within (-2^63, 2^63): cel-spec refuses -2^63 too, though int64 holds it.
      if (!(*d > -9223372036854775808.0 && *d < 9223372036854775808.0)) {
        return error(expr, "int overflow");
      }
      return Value(static_cast<std::int64_t>(*d));
    }
    if (const auto* s = v.get_if<std::string>()) {
      std::int64_t out = 0;
      auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
      if (ec != std::errc() || end != s->data() + s->size()) {
        return error(expr, "cannot convert '" + *s + "' to int");
      }
      return Value(out);
    }
    if (const auto* t = v.get_if<Timestamp>()) return Value(t->seconds);
  } else if (f == "uint") {
    if (const auto* u = v.get_if<std::uint64_t>()) return Value(*u);
    if (const auto* i = v.get_if<std::int64_t>()) {
      if (*i < 0) return error(expr, "uint overflow");
      return Value(static_cast<std::uint64_t>(*i));
    }
    if (const auto* d = v.get_if<double>()) {
      if (!(*d > -1.0 && *d < 18446744073709551616.0)) return error(expr, "uint overflow");
      return Value(static_cast<std::uint64_t>(*d));
    }
    if (const auto* s = v.get_if<std::string>()) {
      std::uint64_t out = 0;
      auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
      if (ec != std::errc() || end != s->data() + s->size()) {
        return error(expr, "cannot convert '" + *s + "' to uint");
      }
      return Value(out);
    }
  } else if (f == "double") {
    if (const auto* d = v.get_if<double>()) return Value(*d);
    if (const auto* i = v.get_if<std::int64_t>()) return Value(static_cast<double>(*i));
    if (const auto* u = v.get_if<std::uint64_t>()) return Value(static_cast<double>(*u));
    if (const auto* s = v.get_if<std::string>()) {
      if (*s == "NaN") return Value(std::numeric_limits<double>::quiet_NaN());
      if (*s == "Infinity" || *s == "+Infinity" || *s == "inf" || *s == "+inf")
        return Value(std::numeric_limits<double>::infinity());
      if (*s == "-Infinity" || *s == "-inf") return Value(-std::numeric_limits<double>::infinity());
      double out = 0;
      auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), out);
      if (ec != std::errc() || end != s->data() + s->size()) {
        return error(expr, "cannot convert '" + *s + "' to double");
      }
      return Value(out);
    }
  } else if (f == "string") {
    if (const auto* s = v.get_if<std::string>()) return Value(*s);
    if (const auto* i = v.get_if<std::int64_t>()) return Value(std::to_string(*i));
    if (const auto* u = v.get_if<std::uint64_t>()) return Value(std::to_string(*u));
    if (const auto* d = v.get_if<double>()) return Value(format_double(*d));
    if (const auto* b = v.get_if<bool>()) return Value(std::string(*b ? "true" : "false"));
    if (const auto* o = v.get_if<Bytes>()) {
      if (!is_valid_utf8(o->octets)) return error(expr, "bytes are not valid UTF-8");
      return Value(o->octets);
    }
    if (const auto* t = v.get_if<Timestamp>()) return Value(format_timestamp(*t));
    if (const auto* d = v.get_if<Duration>()) return Value(format_duration(*d));
  } else if (f == "bool") {
    if (const auto* b = v.get_if<bool>()) return Value(*b);
    if (const auto* s = v.get_if<std::string>()) {
      for (std::string_view yes : {"1", "t", "T", "TRUE", "true", "True"}) {
        if (*s == yes) return Value(true);
      }
      for (std::string_view no : {"0", "f", "F", "FALSE", "false", "False"}) {
        if (*s == no) return Value(false);
      }
      return error(expr, "cannot convert '" + *s + "' to bool");
    }
  } else if (f == "bytes") {
    if (const auto* o = v.get_if<Bytes>()) return Value(*o);
    if (const auto* s = v.get_if<std::string>()) return Value(Bytes{*s});
  }
  return no_overload(expr, f, {v});
}

}  // namespace reliant::cel::detail
