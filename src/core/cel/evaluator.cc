// evaluate(): one expression, evaluated once, by the tree walk (core/cel/tree_evaluator.h).
#include "core/cel/evaluator.h"

#include "core/cel/functions.h"
#include "core/cel/tree_evaluator.h"

namespace reliant::cel {

EvalResult evaluate(const Expr& expr, const Activation& variables, const EvalOptions& options) {
  Budget budget(granted_cost(options));
  detail::Evaluator evaluator(variables, options, budget);
  EvalResult result = evaluator.eval(expr);
  take_shared_cost(options, budget);
  if (result) {
    // The whole value is at fault, not a node of it: located at the start, as Program does.
    if (auto problem = oversize(*result)) return tl::unexpected(EvalError{0, *problem});
  }
  return result;
}

}  // namespace reliant::cel
