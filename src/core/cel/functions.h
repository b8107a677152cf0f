// The functions the evaluator calls by name once its operators and macros have not matched, in
// groups of one file each: strings (cel-spec's and cel-go's strings extension), regular
// expressions, timestamps and durations, and Reliant's extensions. A function gets evaluated
// arguments (args[0] is the target of a method call) and says "no overload" by returning nullopt.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>
#include <tl/expected.hpp>

#include "base/assert.h"
#include "core/cel/evaluator.h"
#include "core/cel/value.h"

namespace reliant::cel {

inline constexpr const char* kBudgetExceeded = "evaluation cost budget exceeded";

// What is left of an evaluation's cost budget (EvalOptions::cost_max).
class Budget {
 public:
  explicit Budget(std::int64_t steps) : granted_(steps), remaining_(steps) {
    RELIANT_ASSERT(steps >= 0);
  }
  // What was spent, at most what was granted (a charge may go past it once).
  std::int64_t spent() const { return granted_ - std::max<std::int64_t>(remaining_, 0); }
  // Spends `steps`; false once the budget is spent, and ever after.
  bool charge(std::int64_t steps) {
    RELIANT_ASSERT_MSG(steps >= 0, "a charge never gives budget back");
    remaining_ -= steps;
    exhausted_ = exhausted_ || remaining_ < 0;
    return !exhausted_;
  }
  // One step per 16 bytes read or built, as concatenation charges.
  bool charge_bytes(std::size_t bytes) { return charge(static_cast<std::int64_t>(bytes / 16)); }
  bool exhausted() const { return exhausted_; }

 private:
  std::int64_t granted_;
  std::int64_t remaining_;
  bool exhausted_ = false;
};

// What one evaluation may spend: its own bound, and no more than a shared budget has left.
inline std::int64_t granted_cost(const EvalOptions& options) {
  if (options.shared_cost_left == nullptr) return options.cost_max;
  return std::max<std::int64_t>(0, std::min(options.cost_max, *options.shared_cost_left));
}
// Takes what an evaluation spent from the shared budget, if there is one.
inline void take_shared_cost(const EvalOptions& options, const Budget& budget) {
  RELIANT_ASSERT(budget.spent() >= 0);
  if (options.shared_cost_left != nullptr) *options.shared_cost_left -= budget.spent();
}

// What is wrong with handing back `value` (cel::oversize's bounds), or nothing; the check's walk
// is charged to `budget`, a step an element, so a value borrowed from a variable costs its size.
inline std::optional<EvalError> refuse_oversize(const Value& value, Budget& budget) {
  std::uint64_t walked = 0;
  auto problem = oversize(value, kValueDepthMax, kValueUnitsMax, &walked);
  if (!budget.charge(static_cast<std::int64_t>(walked))) return EvalError{0, kBudgetExceeded};
  // The whole value is at fault, not a node of it: located at the start of the expression.
  if (problem) return EvalError{0, std::move(*problem)};
  return std::nullopt;
}

struct CallContext {
  Budget& budget;
  const EvalOptions& options;
};

// A function's value, or the message of the error it evaluates to.
using CallResult = tl::expected<Value, std::string>;
// A call's arguments; calls take at most a few, so they live on the stack.
using Args = boost::container::small_vector<Value, 4>;
using Function = std::optional<CallResult> (*)(const Args& args, bool method, CallContext& context);
using FunctionTable = std::map<std::string_view, Function>;

inline void add_function(FunctionTable& table, std::string_view name, Function function) {
  const bool added = table.emplace(name, function).second;
  RELIANT_ASSERT(added);  // one function per name, whichever group defines it
}

// Each group adds its functions by name.
void add_string_functions(FunctionTable& table);
void add_regex_functions(FunctionTable& table);
void add_time_functions(FunctionTable& table);
void add_reliant_functions(FunctionTable& table);

// The function called `name`, or null if there is none.
Function find_function(std::string_view name);

// `a + b` and `a - b` over timestamps and durations; nullopt for other operands.
std::optional<CallResult> time_arithmetic(std::string_view op, const Value& a, const Value& b);

// Shorthands for the groups.
inline std::optional<CallResult> fail(std::string message) {
  return CallResult(tl::unexpected(std::move(message)));
}
inline std::optional<CallResult> budget_exceeded() { return fail(kBudgetExceeded); }

}  // namespace reliant::cel
