// Program: an expression compiled into steps that borrow their operands; the tree evaluator
// (core/cel/tree_evaluator.h) is their slow path.
#include <optional>
#include <vector>

#include "base/assert.h"
#include "core/cel/evaluator.h"
#include "core/cel/functions.h"
#include "core/cel/tree_evaluator.h"

namespace reliant::cel {
namespace {

using detail::Evaluator;

// What one evaluation carries through its steps.
struct Frame {
  Frame(const Activation& variables, const EvalOptions& options)
      : budget(granted_cost(options)), tree(variables, options, budget) {}
  Budget budget;
  Evaluator tree;   // the slow paths, and the subtrees no step covers
  EvalError error;  // why the step that returned nullptr failed
};

}  // namespace

// The compiled program. A step returns a pointer to its value instead of the value: a constant,
// a variable or a field inside one is borrowed where it lives (the activation outlives the
// evaluation), and only what an operator builds is written to the caller's `out`. So
// `size(nodes.think.tool_calls) > 0 && inputs.mode == 'manual'` copies no value at all.

class Program::Step {
 public:
  explicit Step(const Expr& expr) : expr_(expr) {}
  virtual ~Step() = default;
  // The value, borrowed or built in `out`; nullptr on an error, which is then in frame.error.
  virtual const Value* eval(Frame& frame, Value& out) const = 0;

 protected:
  // One step of the budget per node, as the tree evaluator charges.
  bool charge(Frame& frame) const {
    if (frame.budget.charge(1)) return true;
    RELIANT_ASSERT(frame.budget.exhausted());  // a refused charge is for good
    frame.error = EvalError{expr_.offset, kBudgetExceeded};
    return false;
  }
  static const Value* settle(Frame& frame, EvalResult result, Value& out) {
    if (!result) {
      RELIANT_ASSERT_MSG(!result.error().message.empty(), "an error says what went wrong");
      frame.error = std::move(result.error());
      return nullptr;
    }
    out = std::move(*result);
    return &out;
  }
  // Copies `value` into `out` unless it lives beyond `scratch`, a temporary of the caller's.
  static const Value* keep(const Value* value, const Value& scratch, const Value& inside,
                           Value& out) {
    RELIANT_ASSERT(value != nullptr);
    if (&inside != &scratch) return value;
    out = *value;
    return &out;
  }

  const Expr& expr_;
};

namespace {

const Value kTrue(true);
const Value kFalse(false);
const Value* boolean(bool b) { return b ? &kTrue : &kFalse; }

using StepPtr = std::unique_ptr<const Program::Step>;
StepPtr compile(const Expr& expr);

// A subtree no step covers (literals, macros, optionals' namespace, has()): the tree evaluator.
class TreeStep final : public Program::Step {
 public:
  using Step::Step;
  const Value* eval(Frame& frame, Value& out) const override {
    return settle(frame, frame.tree.eval(expr_), out);
  }
};

class ConstantStep final : public Program::Step {
 public:
  ConstantStep(const Expr& expr, const Constant& constant)
      : Step(expr), value_(Value::from_constant(constant)) {}
  const Value* eval(Frame& frame, Value&) const override {
    return charge(frame) ? &value_ : nullptr;
  }

 private:
  const Value value_;
};

class IdentStep final : public Program::Step {
 public:
  IdentStep(const Expr& expr, const Ident& ident) : Step(expr), ident_(ident) {}
  const Value* eval(Frame& frame, Value& out) const override {
    if (!charge(frame)) return nullptr;
    if (const Value* bound = frame.tree.variables().find(ident_.name)) return bound;
    return settle(frame, frame.tree.eval_node(ident_, expr_), out);  // a type name, or an error
  }

 private:
  const Ident& ident_;
};

// `operand.field`. With dotted names bound or message types registered, the chain may spell a
// name of its own, which the tree evaluator resolves.
class SelectStep final : public Program::Step {
 public:
  SelectStep(const Expr& expr, const Select& select)
      : Step(expr), select_(select), operand_(compile(*select.operand)) {}
  const Value* eval(Frame& frame, Value& out) const override {
    if (!charge(frame)) return nullptr;
    if (frame.tree.names_may_be_dotted()) {
      return settle(frame, frame.tree.eval_node(select_, expr_), out);
    }
    Value scratch;
    const Value* operand = operand_->eval(frame, scratch);
    if (operand == nullptr) return nullptr;
    if (select_.optional)
      return settle(frame, frame.tree.optional_field(*operand, select_.field, expr_), out);
    if (const ValueMap* map = operand->map()) {
      if (const Value* found = map->find(std::string_view(select_.field))) {
        return keep(found, scratch, *operand, out);
      }
    }
    return settle(frame, frame.tree.field(*operand, select_.field, expr_), out);
  }

 private:
  const Select& select_;
  StepPtr operand_;
};

// && and ||, with the tree evaluator's absorption: a decisive operand wins over an error.
class LogicalStep final : public Program::Step {
 public:
  LogicalStep(const Expr& expr, const Call& call, bool is_and) : Step(expr), is_and_(is_and) {
    for (const auto& arg : call.args) operands_.push_back(compile(arg));
  }
  const Value* eval(Frame& frame, Value&) const override {
    if (!charge(frame)) return nullptr;
    std::optional<EvalError> failure;
    for (const auto& operand : operands_) {
      Value scratch;
      const Value* value = operand->eval(frame, scratch);
      if (value == nullptr) {
        if (frame.budget.exhausted()) return nullptr;  // nothing absorbs running out of budget
        RELIANT_ASSERT(!frame.error.message.empty());  // the step that failed said why
        if (!failure) failure = std::move(frame.error);
        continue;
      }
      const bool* b = value->get_if<bool>();
      if (b == nullptr) {
        if (!failure) {
          failure =
              frame.tree.no_overload(expr_, is_and_ ? op::kLogicalAnd : op::kLogicalOr, {*value})
                  .value();
        }
        continue;
      }
      if (*b != is_and_) return boolean(!is_and_);
    }
    if (failure) {
      frame.error = std::move(*failure);
      return nullptr;
    }
    RELIANT_ASSERT(!operands_.empty());  // && and || have two operands, or more when chained
    return boolean(is_and_);
  }

 private:
  bool is_and_;
  std::vector<StepPtr> operands_;
};

class ConditionalStep final : public Program::Step {
 public:
  ConditionalStep(const Expr& expr, const Call& call)
      : Step(expr),
        condition_(compile(call.args[0])),
        then_(compile(call.args[1])),
        else_(compile(call.args[2])) {}
  const Value* eval(Frame& frame, Value& out) const override {
    if (!charge(frame)) return nullptr;
    Value scratch;
    const Value* condition = condition_->eval(frame, scratch);
    if (condition == nullptr) return nullptr;
    const bool* b = condition->get_if<bool>();
    if (b == nullptr)
      return settle(frame, frame.tree.no_overload(expr_, op::kConditional, {*condition}), out);
    return (*b ? then_ : else_)->eval(frame, out);
  }

 private:
  StepPtr condition_, then_, else_;
};

// Any other call: its target and arguments evaluated in order (the first error wins), then the
// operators conditions use most applied to them in place, the rest through the tree
// evaluator's apply().
class CallStep final : public Program::Step {
 public:
  CallStep(const Expr& expr, const Call& call, Builtin op) : Step(expr), call_(call), op_(op) {
    if (call.target) operands_.push_back(compile(*call.target));
    for (const auto& arg : call.args) operands_.push_back(compile(arg));
  }
  const Value* eval(Frame& frame, Value& out) const override {
    if (!charge(frame)) return nullptr;
    const bool method = call_.target != nullptr;
    if (operands_.size() == 2 && !method) return binary(frame, out);
    if (operands_.size() == 1) {
      Value scratch;
      const Value* operand = operands_[0]->eval(frame, scratch);
      if (operand == nullptr) return nullptr;
      if (op_ == Builtin::size) {
        if (const ValueList* list = operand->list()) return integer(list->size(), out);
        if (const ValueMap* map = operand->map()) return integer(map->size(), out);
      }
      if (op_ == Builtin::logical_not && !method) {
        if (const bool* b = operand->get_if<bool>()) return boolean(!*b);
      }
      Args args;
      args.push_back(operand == &scratch ? std::move(scratch) : *operand);
      return settle(frame, frame.tree.apply(call_.function, op_, args, expr_, method), out);
    }
    Args args;
    for (const auto& operand : operands_) {
      Value scratch;
      const Value* value = operand->eval(frame, scratch);
      if (value == nullptr) return nullptr;
      args.push_back(value == &scratch ? std::move(scratch) : *value);
    }
    return settle(frame, frame.tree.apply(call_.function, op_, args, expr_, method), out);
  }

 private:
  static const Value* integer(std::size_t n, Value& out) {
    out = Value(static_cast<std::int64_t>(n));
    return &out;
  }

  const Value* binary(Frame& frame, Value& out) const {
    Value left_scratch, right_scratch;
    const Value* a = operands_[0]->eval(frame, left_scratch);
    if (a == nullptr) return nullptr;
    const Value* b = operands_[1]->eval(frame, right_scratch);
    if (b == nullptr) return nullptr;
    if (auto decided = same_type_scalars(frame, *a, *b)) return boolean(*decided);
    switch (op_) {
      case Builtin::equals:
      case Builtin::not_equals: {
        const bool same = frame.tree.equals(*a, *b);
        if (frame.budget.exhausted()) {
          frame.error = EvalError{expr_.offset, kBudgetExceeded};
          return nullptr;
        }
        return boolean(same == (op_ == Builtin::equals));
      }
      case Builtin::less:
      case Builtin::less_equals:
      case Builtin::greater:
      case Builtin::greater_equals:
        if (const auto order = compare(*a, *b)) {
          if (op_ == Builtin::less) return boolean(*order < 0);
          if (op_ == Builtin::less_equals) return boolean(*order <= 0);
          if (op_ == Builtin::greater) return boolean(*order > 0);
          return boolean(*order >= 0);
        }
        return settle(frame, frame.tree.relation(call_.function, op_, *a, *b, expr_), out);
      case Builtin::index:
        if (const ValueMap* map = a->map()) {
          if (const Value* found = map->find(*b)) return keep(found, left_scratch, *a, out);
        }
        if (const ValueList* list = a->list()) {
          const auto* i = b->get_if<std::int64_t>();
          if (i != nullptr && *i >= 0 && static_cast<std::size_t>(*i) < list->size()) {
            return keep(&(*list)[static_cast<std::size_t>(*i)], left_scratch, *a, out);
          }
        }
        return settle(frame, frame.tree.index(*a, *b, expr_), out);
      case Builtin::in:
        return settle(frame, frame.tree.membership(*a, *b, expr_), out);
      case Builtin::add:
      case Builtin::subtract:
      case Builtin::multiply:
      case Builtin::divide:
      case Builtin::modulo:
        return settle(frame, frame.tree.arithmetic(call_.function, op_, *a, *b, expr_), out);
      default: {
        Args args;
        args.push_back(a == &left_scratch ? std::move(left_scratch) : *a);
        args.push_back(b == &right_scratch ? std::move(right_scratch) : *b);
        return settle(frame, frame.tree.apply(call_.function, op_, args, expr_, false), out);
      }
    }
  }

  // A comparison of two ints or two strings, the common case, decided without CEL's rules
  // across types; nullopt for anything else.
  std::optional<bool> same_type_scalars(Frame& frame, const Value& a, const Value& b) const {
    const bool equality = op_ == Builtin::equals || op_ == Builtin::not_equals;
    const bool relation = op_ == Builtin::less || op_ == Builtin::less_equals ||
                          op_ == Builtin::greater || op_ == Builtin::greater_equals;
    if (!equality && !relation) return std::nullopt;
    std::strong_ordering order = std::strong_ordering::equal;
    if (const auto* x = a.get_if<std::int64_t>()) {
      const auto* y = b.get_if<std::int64_t>();
      if (y == nullptr) return std::nullopt;
      order = *x <=> *y;
    } else if (const auto* s = a.get_if<std::string>()) {
      const auto* t = b.get_if<std::string>();
      // Equality charges for the bytes it compares, as the tree evaluator's does.
      if (t == nullptr || (equality && !frame.budget.charge_bytes(s->size()))) return std::nullopt;
      order = *s <=> *t;
    } else {
      return std::nullopt;
    }
    switch (op_) {
      case Builtin::equals:
        return order == 0;
      case Builtin::not_equals:
        return order != 0;
      case Builtin::less:
        return order < 0;
      case Builtin::less_equals:
        return order <= 0;
      case Builtin::greater:
        return order > 0;
      default:
        return order >= 0;
    }
  }

  const Call& call_;
  Builtin op_;
  std::vector<StepPtr> operands_;  // the target first, for a method call
};

StepPtr compile(const Expr& expr) {
  if (const auto* constant = std::get_if<Constant>(&expr.node)) {
    return std::make_unique<ConstantStep>(expr, *constant);
  }
  if (const auto* ident = std::get_if<Ident>(&expr.node)) {
    if (!ident->from_root) return std::make_unique<IdentStep>(expr, *ident);
  }
  if (const auto* select = std::get_if<Select>(&expr.node)) {
    if (!detail::rooted_at_google(expr)) return std::make_unique<SelectStep>(expr, *select);
  }
  if (const auto* call = std::get_if<Call>(&expr.node)) {
    const Builtin op =
        call->builtin == Builtin::unresolved ? builtin_named(call->function) : call->builtin;
    if (!call->target && (op == Builtin::logical_and || op == Builtin::logical_or)) {
      return std::make_unique<LogicalStep>(expr, *call, op == Builtin::logical_and);
    }
    if (!call->target && op == Builtin::conditional && call->args.size() == 3) {
      return std::make_unique<ConditionalStep>(expr, *call);
    }
    if (!detail::evaluated_specially(*call, op)) return std::make_unique<CallStep>(expr, *call, op);
  }
  return std::make_unique<TreeStep>(expr);
}

}  // namespace

Program::Program(Expr expr)
    : expr_(std::make_unique<const Expr>(std::move(expr))), root_(compile(*expr_)) {}
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;
Program::~Program() = default;

EvalResult Program::evaluate(const Activation& variables, const EvalOptions& options) const {
  Frame frame(variables, options);
  Value out;
  const Value* value = root_->eval(frame, out);
  // Running out of budget is always an error.
  RELIANT_ASSERT(value == nullptr || !frame.budget.exhausted());
  std::optional<EvalError> refused;
  if (value != nullptr) refused = refuse_oversize(*value, frame.budget);
  take_shared_cost(options, frame.budget);
  if (value == nullptr) return tl::unexpected(std::move(frame.error));
  if (refused) return tl::unexpected(std::move(*refused));
  if (value == &out) return out;
  return *value;
}

}  // namespace reliant::cel
